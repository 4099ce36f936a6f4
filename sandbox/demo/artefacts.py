"""Writes what the bot produced during the demo into a folder a person can read afterwards.

Comments become Markdown (one file per version, so an edit is visible as a second file), check
runs become JSON, and `summary.json` indexes everything with the timeline. Names are numbered in
the order things happened.
"""

from __future__ import annotations

import json
import re
from dataclasses import asdict, dataclass, field, is_dataclass
from pathlib import Path
from typing import Any

SLUG_RE = re.compile(r"[^a-z0-9]+")


def slugify(text: str, limit: int = 48) -> str:
    return SLUG_RE.sub("-", text.lower()).strip("-")[:limit] or "item"


def _plain(value: Any) -> Any:
    if is_dataclass(value) and not isinstance(value, type):
        return asdict(value)
    return value


@dataclass
class Artefacts:
    """An output folder plus an index of its files, for `summary.json`."""

    root: Path
    index: list[dict] = field(default_factory=list)
    facts: dict[str, Any] = field(default_factory=dict)

    def __post_init__(self) -> None:
        self.root.mkdir(parents=True, exist_ok=True)
        for old in self.root.glob("[0-9][0-9]-*"):  # a previous run's files would mislead
            old.unlink()

    def _name(self, kind: str, title: str, ext: str) -> Path:
        return self.root / f"{len(self.index) + 1:02d}-{kind}-{slugify(title)}.{ext}"

    def comment(self, step: str, comment: Any, *, edited: bool = False) -> Path:
        """Save one comment version as Markdown, with who wrote it and its id in a header."""
        data = _plain(comment)
        path = self._name("comment", step, "md")
        header = f"<!-- comment {data.get('id')} by {data.get('author') or data.get('user')}"
        header += " (edited) -->\n" if edited else " -->\n"
        path.write_text(header + str(data.get("body", "")) + "\n", encoding="utf-8")
        self.index.append({"kind": "comment", "step": step, "file": path.name, "id": data.get("id"),
                           "author": data.get("author") or data.get("user"), "edited": edited,
                           "body": data.get("body", "")})
        return path

    def check_run(self, step: str, check_run: Any) -> Path:
        """Save a check run (status, conclusion, output and annotations) as JSON."""
        data = _plain(check_run)
        path = self._name("check-run", step, "json")
        path.write_text(json.dumps(data, indent=2, default=str) + "\n", encoding="utf-8")
        self.index.append({"kind": "check_run", "step": step, "file": path.name, "id": data.get("id"),
                           "conclusion": data.get("conclusion"), "status": data.get("status"),
                           "annotations": len((data.get("output") or {}).get("annotations") or [])})
        return path

    def data(self, step: str, name: str, payload: Any) -> Path:
        """Save any other JSON result (samples, a release listing, the answer)."""
        path = self._name("data", name, "json")
        path.write_text(json.dumps(_plain(payload), indent=2, default=str) + "\n", encoding="utf-8")
        self.index.append({"kind": "data", "step": step, "file": path.name, "name": name})
        return path

    def fact(self, key: str, value: Any) -> None:
        """A headline result for summary.json (e.g. the release id, the answer)."""
        self.facts[key] = value

    def write_summary(self, timeline: list[dict], ok: bool, failed_step: str | None = None) -> Path:
        summary = {"ok": ok, "failed_step": failed_step, "facts": self.facts,
                   "timeline": timeline, "artefacts": self.index}
        path = self.root / "summary.json"
        path.write_text(json.dumps(summary, indent=2, default=str) + "\n", encoding="utf-8")
        return path
