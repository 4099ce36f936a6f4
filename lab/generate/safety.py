"""A small, always-on rule set for unsafe generated text; a judge model does the rest when configured.

The rules are deliberately few and narrow, so they rarely fire on ordinary data (a chickadee that
"kills insects" is fine): each names one kind of content no training row should carry. They are
listed, with what they do not catch, in docs/data-quality.md. Matching is case-insensitive on the
question, the answer and any context of a row.
"""

from __future__ import annotations

import re

_MAKE = r"(?:make|making|build|building|assemble|synthesi[sz]e|cook|brew|manufacture|recipe for|instructions for)"
_HARMFUL_THING = (r"(?:bombs?|pipe ?bombs?|explosives?|napalm|nerve agents?|sarin|ricin|anthrax|bio-?weapons?|"
                  r"chemical weapons?|meth(?:amphetamine)?|untraceable (?:guns?|firearms?))")
_MINOR = r"(?:child|children|kids?|minors?|underage|\d{1,2}[- ]year[- ]olds?)"
_SEXUAL = r"(?:sex|sexual|sexually|nude|naked|porn\w*|erotic)"
_GROUP = (r"(?:jews|muslims|christians|hindus|blacks|whites|asians|immigrants|gays|women|men|"
          r"people|humans)")

RULES: dict[str, re.Pattern[str]] = {
    "weapons or drugs: how to make": re.compile(rf"\b{_MAKE}\b[^.?!\n]{{0,60}}\b{_HARMFUL_THING}\b", re.I),
    "self-harm encouragement": re.compile(
        r"\b(?:should|go|just) (?:kill|hurt|harm) yourself\b|\bhow to (?:kill|hurt|harm) (?:yourself|myself)\b|"
        r"\bways to (?:die|kill (?:yourself|myself)|end (?:your|my) life)\b", re.I),
    "sexual content with minors": re.compile(
        rf"\b{_MINOR}\b[^.?!\n]{{0,40}}\b{_SEXUAL}\b|\b{_SEXUAL}\b[^.?!\n]{{0,40}}\b{_MINOR}\b", re.I),
    "incitement to violence": re.compile(rf"\b(?:kill|exterminate|wipe out|shoot) (?:all|every) (?:the )?{_GROUP}\b",
                                         re.I),
}


def unsafe_rule(*texts: str | None) -> str | None:
    """The name of the first rule any of `texts` breaks, or None when all are clean."""
    for text in texts:
        if not text:
            continue
        for name, pattern in RULES.items():
            if pattern.search(text):
                return name
    return None
