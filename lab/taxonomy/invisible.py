"""Invisible and look-alike characters: a reviewer must see what a contributor's text really holds.

Unicode format controls (category Cf: bidi overrides such as U+202E, zero-width characters such as
U+200B, the BOM inside text) change how text is displayed or are not displayed at all. In a value
they are a warning; in a key they are an error. A key written with look-alike letters (Cyrillic
`а` for Latin `a`) would be reported with a name that looks exactly like the valid one, so such keys
are shown escaped. Every message goes through `escape_invisible`, so no finding can carry a control
that reorders or hides its own text.
"""

from __future__ import annotations

import unicodedata
from collections.abc import Iterable
from typing import Any

from lab.taxonomy.findings import Issue
from lab.taxonomy.loader import Loaded

# Invisible characters outside category Cf: the combining grapheme joiner and the Hangul fillers.
INVISIBLE_EXTRA = frozenset("\u034f\u115f\u1160\u3164\uffa0")
MAX_SHOWN = 3  # code points named in one message
# Letters that look like Latin ones and survive NFKD (the common Cyrillic and Greek homoglyphs).
LOOKALIKES = str.maketrans({
    "а": "a", "в": "b", "е": "e", "о": "o", "р": "p", "с": "c", "у": "y", "х": "x", "і": "i", "ј": "j",
    "ѕ": "s", "ԁ": "d", "ԛ": "q", "ԝ": "w", "һ": "h", "ӏ": "l", "к": "k",
    "α": "a", "ε": "e", "ι": "i", "κ": "k", "ν": "v", "ο": "o", "ρ": "p", "τ": "t", "υ": "u", "χ": "x",
    "ı": "i", "ɡ": "g", "ʏ": "y", "ɑ": "a",
})


def is_invisible(char: str) -> bool:
    return unicodedata.category(char) == "Cf" or char in INVISIBLE_EXTRA


def code_point(char: str) -> str:
    """'U+202E RIGHT-TO-LEFT OVERRIDE'."""
    return f"U+{ord(char):04X} {unicodedata.name(char, 'unnamed character')}"


def invisible_in(text: str) -> list[str]:
    """The distinct invisible characters in `text`, in order of first appearance."""
    return list(dict.fromkeys(c for c in text if is_invisible(c)))


def escape_invisible(text: str) -> str:
    """`text` with every invisible character written as <U+XXXX>, so it cannot hide or reorder text."""
    if text.isascii():
        return text
    return "".join(f"<U+{ord(c):04X}>" if is_invisible(c) else c for c in text)


def escape_key(key: str) -> str:
    """A key with every non-ASCII character written as <U+XXXX>: look-alikes become visible."""
    return "".join(c if c.isascii() and c.isprintable() else f"<U+{ord(c):04X}>" for c in key)


def skeleton(text: str) -> str:
    """What `text` looks like in ASCII: compatibility forms folded, accents and controls dropped."""
    folded = unicodedata.normalize("NFKD", text.translate(LOOKALIKES))
    return "".join(c for c in folded if not unicodedata.combining(c) and not is_invisible(c))


def lookalike_of(key: str, known: Iterable[str]) -> str | None:
    """The known ASCII name a non-ASCII key imitates ('quеstion' with Cyrillic е -> 'question')."""
    if key.isascii():
        return None
    shape = skeleton(key)
    return shape if shape in set(known) and shape != key else None


def named(chars: list[str]) -> str:
    shown = ", ".join(code_point(c) for c in chars[:MAX_SHOWN])
    return shown + (f" and {len(chars) - MAX_SHOWN} more" if len(chars) > MAX_SHOWN else "")


def _walk(data: Any, path: tuple) -> Iterable[tuple[tuple, Any, bool]]:
    """(path, text, is_key) for every string key and string value, iteratively (depth is bounded by the loader)."""
    stack = [(path, data)]
    while stack:
        here, value = stack.pop()
        if isinstance(value, str):
            yield here, value, False
        elif isinstance(value, dict):
            for key, child in value.items():
                if isinstance(key, str):
                    yield (*here, key), key, True
                stack.append(((*here, key), child))
        elif isinstance(value, list):
            stack.extend(((*here, i), child) for i, child in enumerate(value))


def invisible_issues(loaded: Loaded) -> list[Issue]:
    """format-character (values, warning) and format-character-key (keys, error), each code point named."""
    issues = []
    for path, text, is_key in _walk(loaded.data, ()):
        if text.isascii():
            continue
        chars = invisible_in(text)
        if not chars:
            continue
        if is_key:
            line, col = loaded.key_where(path) or loaded.where(path)
            issues.append(Issue("format-character-key", line, col,
                                f"The key `{escape_key(text)}` contains {named(chars)}, which cannot be seen.",
                                "Retype the key by hand; invisible characters make it a different key."))
        else:
            line, col = loaded.where(path)
            issues.append(Issue("format-character", line, col,
                                f"This text contains {named(chars)}: invisible, and it can change how the text "
                                "reads (a bidi override reverses it).",
                                "Delete the character; it is often pasted in from a web page or chat program."))
    issues.sort(key=lambda i: (i.line, i.col))
    return issues
