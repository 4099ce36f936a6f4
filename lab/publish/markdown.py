"""Markdown made safe for text that came from pull requests: table cells and code fences.

Shared by the model, GGUF and data cards, so none of them imports another for its escaping.
"""

from __future__ import annotations

import json
import re
from typing import Any

MAX_CELL_CHARS = 200


def cell(value: Any) -> str:
    """One line, pipes escaped, no raw HTML, at most MAX_CELL_CHARS: safe inside a Markdown table cell."""
    text = value if isinstance(value, str) else json.dumps(value, sort_keys=True, default=str)
    text = " ".join(text.split()).replace("|", "\\|").replace("<", "&lt;")
    return text if len(text) <= MAX_CELL_CHARS else text[: MAX_CELL_CHARS - 1] + "…"


def fence(text: str) -> str:
    """A code block whose fence is longer than any run of backticks inside, so the text cannot close it."""
    longest = max((len(m) for m in re.findall(r"`+", text)), default=0)
    ticks = "`" * max(3, longest + 1)
    return f"{ticks}text\n{text}\n{ticks}"
