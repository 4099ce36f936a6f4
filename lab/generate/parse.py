"""Read a teacher's reply as one JSON object with the fields a stage asked for.

The reply is decoded as JSON (after an optional ```json fence or leading chatter), never split on
punctuation. Every failure comes back with a reason, so the caller counts it instead of dropping it.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from typing import Any

# strict=False: raw control characters inside strings (which JSON grammars of llama.cpp let through)
# do not make a reply unreadable; they are stripped from the values below.
DECODER = json.JSONDecoder(strict=False)
CONTROL = re.compile(r"[\x00-\x08\x0b-\x1f\x7f]")


@dataclass(frozen=True)
class Parsed:
    fields: dict[str, str] | None  # None when the reply is unusable
    reason: str = ""  # why it is unusable: "empty", "not json", "missing 'answer'", "backend error: ..."


def parse_reply(text: str, schema: dict[str, Any]) -> Parsed:
    """Decode `text` as the object `schema` describes; values are stripped strings."""
    stripped = text.strip()
    if not stripped:
        return Parsed(None, "empty")
    start = stripped.find("{")
    if start < 0:
        return Parsed(None, "not json")
    try:
        value, _ = DECODER.raw_decode(stripped, start)
    except json.JSONDecodeError:
        return Parsed(None, "not json")
    if not isinstance(value, dict):
        return Parsed(None, "not an object")
    fields: dict[str, str] = {}
    for name in schema.get("required", []):
        raw = value.get(name)
        raw = CONTROL.sub("", raw) if isinstance(raw, str) else raw
        if not isinstance(raw, str) or not raw.strip():
            return Parsed(None, f"missing {name!r}")
        allowed = schema["properties"][name].get("enum")
        if allowed and raw.strip() not in allowed:
            return Parsed(None, f"{name!r} not one of {allowed}")
        fields[name] = raw.strip()
    return Parsed(fields)
