"""Content-addressed cache of generated rows: re-running on an unchanged leaf does no model work.

The key hashes (leaf content hash and path, teacher id, prompt version, data-shaping parameters):
the path too, because rows carry it in their metadata. An entry is
a directory with `rows.jsonl` and `meta.json`, written under a temporary name and renamed into place,
so a crash never leaves a half entry that looks complete.
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import tempfile
from collections.abc import Iterator
from pathlib import Path
from typing import IO, Any

from lab.generate.prompts import PROMPT_VERSION

DEFAULT_CACHE_DIR = Path("~/.cache/arborist/sdg")


def default_cache_dir(environ: dict[str, str] | None = None) -> Path:
    """`$ARBORIST_CACHE_DIR`, else ~/.cache/arborist/sdg (lab.settings.CacheSettings)."""
    from lab.settings import CacheSettings

    return (CacheSettings.from_environ(environ).cache_dir or DEFAULT_CACHE_DIR).expanduser()


def cache_key(leaf_hash: str, teacher_id: str, params: dict[str, Any], prompt_version: str = PROMPT_VERSION,
              leaf_path: str = "") -> str:
    blob = json.dumps({"leaf": leaf_hash, "path": leaf_path, "teacher": teacher_id, "prompts": prompt_version,
                       "params": params},
                      sort_keys=True, default=str)
    return hashlib.sha256(blob.encode()).hexdigest()


class SdgCache:
    def __init__(self, root: Path | str) -> None:
        self.root = Path(root).expanduser()

    def _dir(self, key: str) -> Path:
        return self.root / key[:2] / key

    def lookup(self, key: str) -> dict[str, Any] | None:
        """The entry's meta (with `rows_path`) if complete, else None."""
        meta_path = self._dir(key) / "meta.json"
        try:
            meta = json.loads(meta_path.read_text())
        except (OSError, ValueError):
            return None
        meta["rows_path"] = str(self._dir(key) / "rows.jsonl")
        return meta

    def rows(self, key: str) -> Iterator[dict[str, Any]]:
        """Stream a complete entry's rows, one at a time."""
        with open(self._dir(key) / "rows.jsonl", encoding="utf-8") as fh:
            for line in fh:
                if line.strip():
                    yield json.loads(line)

    def begin(self, key: str) -> PendingEntry:
        self.root.mkdir(parents=True, exist_ok=True)
        return PendingEntry(self._dir(key), Path(tempfile.mkdtemp(prefix=".tmp-", dir=self.root)))


class PendingEntry:
    """Rows are appended while a leaf generates; `commit` publishes them, `abort` throws them away."""

    def __init__(self, final: Path, tmp: Path) -> None:
        self.final, self.tmp = final, tmp
        self.fh: IO[str] = open(tmp / "rows.jsonl", "w", encoding="utf-8")

    def write(self, line: str) -> None:
        self.fh.write(line)

    def commit(self, meta: dict[str, Any]) -> None:
        self.fh.close()
        (self.tmp / "meta.json").write_text(json.dumps(meta, indent=1, sort_keys=True))
        self.final.parent.mkdir(parents=True, exist_ok=True)
        if self.final.exists():
            shutil.rmtree(self.final, ignore_errors=True)
        os.replace(self.tmp, self.final)

    def abort(self) -> None:
        self.fh.close()
        shutil.rmtree(self.tmp, ignore_errors=True)
