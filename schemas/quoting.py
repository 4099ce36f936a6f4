"""Quote what a user wrote without reposting it as live Markdown: one bounded, inert code span.

Inside a code span GitHub renders nothing: no @mention (so nobody is notified), no link or image,
no HTML, no emphasis, no issue reference. The span's backtick fence is longer than any run of
backticks in the text, so the text cannot close it early; control and bidi characters are shown as
`?`, and long text is cut with an ellipsis. The bot's replies and ci's reports both quote strangers,
so the one way to do it lives here, in neither.
"""

from __future__ import annotations

import re

MAX_QUOTE_CHARS = 200  # the most characters of a user's text Arborist repeats
HIDDEN_CHARS_RE = re.compile(r"[\x00-\x1f\x7f-\x9f\u200b-\u200f\u202a-\u202e\u2060-\u2069\ufeff]")
BACKTICKS_RE = re.compile(r"`+")


def code_span(text: str, limit: int = MAX_QUOTE_CHARS) -> str:
    """`text` as one Markdown code span of at most `limit` characters (plus its fence)."""
    text = HIDDEN_CHARS_RE.sub("?", text)
    if len(text) > limit:
        text = text[: limit - 1] + "…"
    if not text.strip():
        return "` `"
    fence = "`" * (max((len(run) for run in BACKTICKS_RE.findall(text)), default=0) + 1)
    pad = " " if text[0] in "` " or text[-1] in "` " else ""
    return f"{fence}{pad}{text}{pad}{fence}"


def quote_line(line: str) -> str:
    """A quoted command line for the top of a reply."""
    return f"> {code_span(line)}"
