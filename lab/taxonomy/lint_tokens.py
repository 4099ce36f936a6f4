"""yamllint's relaxed token rules (colons, hyphens, commas, brackets, braces), all warnings, in-process.

Run on the C scanner's token stream; spaces are counted from line/column marks, which both
scanners agree on. The settings are those of yamllint's `relaxed` preset.
"""

from __future__ import annotations

import re

import yaml
from yaml.tokens import (
    AliasToken,
    BlockEntryToken,
    FlowEntryToken,
    FlowMappingEndToken,
    FlowMappingStartToken,
    FlowSequenceEndToken,
    FlowSequenceStartToken,
    KeyToken,
    Token,
    ValueToken,
)

from lab.taxonomy.findings import Issue

# Every problem these rules report needs one of these in the text; most files have none, and skip the scan.
MAY_HAVE_PROBLEM = re.compile(r"[\[{]|:[ \t]{2,}|[ \t]:|-[ \t]{2,}|^[ \t-]*\?(?:[ \t]|$)", re.MULTILINE)
MAX_SPACES_INSIDE = 1  # relaxed: brackets and braces allow 0 or 1 space inside
HINTS = {
    "colons": "Write `key: value` with exactly one space after the colon and none before it.",
    "hyphens": "Write list items as `- item`, with one space after the hyphen.",
    "commas": "Write `[a, b]`: no space before a comma, one after it.",
    "brackets": "Use at most one space inside `[ ]`.",
    "braces": "Use at most one space inside `{ }`.",
}


def _issue(rule: str, line: int, col: int, message: str) -> Issue:
    return Issue(rule, line, col, message[0].upper() + message[1:] + ".", HINTS[rule])


def _spacing(rule: str, line: int, column: int, spaces: int, low: int, high: int, what: str) -> Issue | None:
    """`spaces` against the rule's bounds (-1: no bound): too many is reported at `column`, too few just after."""
    if high != -1 and spaces > high:
        return _issue(rule, line, column, f"too many spaces {what}")
    if low != -1 and spaces < low:
        return _issue(rule, line, column + 1, f"too few spaces {what}")
    return None


def _after(rule: str, token: Token, nxt: Token | None, low: int, high: int, what: str) -> Issue | None:
    if nxt is None or token.end_mark.line != nxt.start_mark.line:
        return None
    spaces = nxt.start_mark.column - token.end_mark.column
    return _spacing(rule, token.start_mark.line + 1, nxt.start_mark.column, spaces, low, high, what)


def _before(rule: str, token: Token, prev: Token | None, low: int, high: int, what: str) -> Issue | None:
    if prev is None or prev.end_mark.line != token.start_mark.line:
        return None
    if prev.end_mark.index != 0 and prev.end_mark.column == 0:
        return None  # the previous token (a scalar) ended at the start of this line
    spaces = token.start_mark.column - prev.end_mark.column
    return _spacing(rule, token.start_mark.line + 1, token.start_mark.column, spaces, low, high, what)


def _check(token: Token, prev: Token | None, nxt: Token | None) -> list[Issue | None]:
    if isinstance(token, ValueToken):
        if isinstance(prev, AliasToken) and prev.end_mark.line == token.start_mark.line and \
                token.start_mark.column - prev.end_mark.column == 1:
            return []
        return [_before("colons", token, prev, -1, 0, "before colon"),
                _after("colons", token, nxt, -1, 1, "after colon")]
    if isinstance(token, KeyToken) and token.start_mark.column != token.end_mark.column:  # explicit `? key`
        return [_after("colons", token, nxt, -1, 1, "after question mark")]
    if isinstance(token, BlockEntryToken):
        return [_after("hyphens", token, nxt, -1, 1, "after hyphen")]
    if isinstance(token, FlowEntryToken):
        before: Issue | None
        if prev is not None and prev.end_mark.line < token.start_mark.line:
            before = _issue("commas", token.start_mark.line + 1, max(1, token.start_mark.column),
                            "too many spaces before comma")
        else:
            before = _before("commas", token, prev, -1, 0, "before comma")
        return [before, _after("commas", token, nxt, 1, 1, "after comma")]
    for start, end, rule, name in ((FlowSequenceStartToken, FlowSequenceEndToken, "brackets", "brackets"),
                                   (FlowMappingStartToken, FlowMappingEndToken, "braces", "braces")):
        if isinstance(token, start):
            empty = isinstance(nxt, end)
            return [_after(rule, token, nxt, 0, MAX_SPACES_INSIDE, f"inside {'empty ' if empty else ''}{name}")]
        if isinstance(token, end) and not isinstance(prev, start):
            return [_before(rule, token, prev, 0, MAX_SPACES_INSIDE, f"inside {name}")]
    return []


def token_issues(text: str) -> list[Issue]:
    """Spacing warnings yamllint's relaxed preset gives for this text (nothing if it does not scan)."""
    if not MAY_HAVE_PROBLEM.search(text):
        return []
    tokens: list[Token] = []
    try:
        for token in yaml.scan(text, Loader=yaml.CSafeLoader):
            tokens.append(token)
    except yaml.YAMLError:
        pass  # yamllint, too, checks the tokens it got before a scanner error
    issues: list[Issue] = []
    for i, token in enumerate(tokens):
        prev = tokens[i - 1] if i else None
        nxt = tokens[i + 1] if i + 1 < len(tokens) else None
        issues.extend(issue for issue in _check(token, prev, nxt) if issue is not None)
    return issues
