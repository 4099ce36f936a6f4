"""The lines a ci step prints to report back: `::arborist-progress::{json}` and `::arborist-result::{json}`.

A contract between two packages, so it lives in neither: `ci.report` (which documents the protocol)
writes these lines and the bot's worker reads them, and neither imports the other. Pure: no I/O.
Parsing never fails: a malformed line is plain output.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field

PROGRESS_PREFIX = "::arborist-progress::"
RESULT_PREFIX = "::arborist-result::"
MAX_LINE_CHARS = 200_000  # a result line longer than this is ignored by the reader (hostile or runaway output)
COMMENT_LIMIT = 65_536  # GitHub's limit on an issue comment body, in characters
CHECK_TEXT_LIMIT = 65_535  # GitHub's limit on check run output summary/text
TRUNCATION_NOTE = "\n\n_… cut here: the full report is longer than GitHub allows in one comment; see the logs._"


def truncate(body: str, limit: int = COMMENT_LIMIT, note: str = TRUNCATION_NOTE) -> str:
    """`body` unchanged if it fits, else cut so that body + note is exactly within `limit`."""
    if len(body) <= limit:
        return body
    return body[: max(0, limit - len(note))] + note


@dataclass(frozen=True)
class Progress:
    text: str
    fraction: float | None = None


@dataclass(frozen=True)
class Result:
    conclusion: str  # "success" | "failure"
    title: str
    summary: str = ""  # Markdown
    links: dict[str, str] = field(default_factory=dict)


def format_progress(progress: Progress) -> str:
    fraction = None if progress.fraction is None else max(0.0, min(1.0, float(progress.fraction)))
    return PROGRESS_PREFIX + json.dumps({"text": progress.text[:500], "fraction": fraction})


def format_result(result: Result) -> str:
    return RESULT_PREFIX + json.dumps({"conclusion": result.conclusion, "title": result.title[:200],
                                       "summary": truncate(result.summary), "links": dict(result.links)})


def parse_line(line: str) -> Progress | Result | None:
    """Read one stdout line of a step; anything malformed is plain output (None), never an error."""
    line = line.strip()
    if len(line) > MAX_LINE_CHARS:
        return None
    for prefix in (PROGRESS_PREFIX, RESULT_PREFIX):
        if line.startswith(prefix):
            try:
                data = json.loads(line[len(prefix):])
            except ValueError:
                return None
            if not isinstance(data, dict):
                return None
            if prefix == PROGRESS_PREFIX:
                fraction = data.get("fraction")
                if isinstance(fraction, bool) or not isinstance(fraction, int | float):
                    return Progress(str(data.get("text", ""))[:500], None)
                return Progress(str(data.get("text", ""))[:500], max(0.0, min(1.0, float(fraction))))
            raw_links = data.get("links")
            links: dict[object, object] = raw_links if isinstance(raw_links, dict) else {}
            conclusion = "success" if data.get("conclusion") == "success" else "failure"
            return Result(conclusion, str(data.get("title", ""))[:200], truncate(str(data.get("summary", ""))),
                          {str(k): str(v) for k, v in links.items() if str(v).startswith(("https://", "http://"))})
    return None
