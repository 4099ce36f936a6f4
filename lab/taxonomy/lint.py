"""yamllint's `relaxed` rules that matter for a verdict, in-process, on the normalised text.

The reference runs `yamllint -d "{extends: relaxed, rules: {line-length: disable}}"` for
version >= 2 files; in that config the error-level rules are trailing-spaces,
new-line-at-end-of-file and key-duplicates (duplicate keys are found by the loader for every
version). empty-lines and the token spacing rules (lint_tokens) are warnings there and here.
`# yamllint disable...` comments are honoured. yamllint's indentation warning is not reproduced.
"""

from __future__ import annotations

import re

from lab.taxonomy.findings import Issue
from lab.taxonomy.lint_tokens import token_issues

LINE_END_SPACE = re.compile(r"[ \t\x0b\x0c](?=\n|\Z)")  # one char, then the line's end: linear time
WHITESPACE = " \t\x0b\x0c"
BLANK_RUN = re.compile(r"\n\n\n\n+")  # four newlines = three blank lines in a row (max is 2)
DIRECTIVE = re.compile(r"(?:^|[ \t])(# yamllint (disable-line|disable|enable)((?: rule:\S+)*)\s*)$")
# our rule id -> yamllint's, for `# yamllint disable rule:...` comments
YAMLLINT_IDS = {"trailing-spaces": "trailing-spaces", "newline-at-eof": "new-line-at-end-of-file",
                "empty-lines": "empty-lines", "colons": "colons", "hyphens": "hyphens", "commas": "commas",
                "brackets": "brackets", "braces": "braces"}


def lint_issues(text: str) -> list[Issue]:
    """Problems yamllint's relaxed config reports for these rules, minus what directives disable."""
    if re.match(r"#\s*yamllint disable-file\s*$", text.split("\n", 1)[0]):
        return []
    issues: list[Issue] = []
    for match in LINE_END_SPACE.finditer(text):
        end = match.end()
        start = text.rfind("\n", 0, end) + 1
        body = text[start:end].rstrip(WHITESPACE)
        if text[start + len(body)] not in " \t":
            continue  # yamllint: only a run that starts with a space or tab counts
        line, col = _line_col(text, start + len(body))
        issues.append(Issue("trailing-spaces", line, col, "This line ends with spaces or tabs.",
                            "Delete the whitespace at the end of the line (many editors can do it on save)."))
    if text and not text.endswith("\n"):
        last = text.rsplit("\n", 1)[-1]
        issues.append(Issue("newline-at-eof", text.count("\n") + 1, len(last) + 1,
                            "The file does not end with a newline.", "Add an empty line break at the very end."))
    issues.extend(_blank_lines(text))
    issues.extend(token_issues(text))
    if "yamllint" in text and issues:
        issues = _apply_directives(text, issues)
    return issues


def _line_col(text: str, index: int) -> tuple[int, int]:
    return text.count("\n", 0, index) + 1, index - (text.rfind("\n", 0, index) + 1) + 1


def _blank_issue(line: int, count: int, limit: int) -> Issue:
    return Issue("empty-lines", line, 1, f"Too many blank lines ({count} > {limit}).", "Remove the extra blank lines.")


def _blank_lines(text: str) -> list[Issue]:
    if text == "\n" or "\n\n" not in text and not text.startswith("\n"):
        return []
    issues = []
    lead = len(text) - len(text.lstrip("\n"))
    if lead:
        issues.append(_blank_issue(lead, lead, 0))
    body_end = len(text.rstrip("\n"))
    trail = len(text) - body_end - 1
    for match in BLANK_RUN.finditer(text, lead, body_end + 1):
        count = len(match.group()) - 1
        issues.append(_blank_issue(_line_col(text, match.end() - 1)[0], count, 2))
    if trail > 0 and body_end > 0:
        issues.append(_blank_issue(text.count("\n"), trail, 0))
    return issues


def _apply_directives(text: str, issues: list[Issue]) -> list[Issue]:
    """Filter issues by `# yamllint disable/enable/disable-line [rule:...]` comments, as yamllint does."""
    everything = set(YAMLLINT_IDS.values())
    disabled: set[str] = set()
    per_line: dict[int, set[str]] = {}
    state: dict[int, set[str]] = {}
    lines = text.split("\n")
    for number, line in enumerate(lines, 1):
        match = DIRECTIVE.search(line) if "yamllint" in line else None
        if match:
            kind, rules = match.group(2), [r[5:] for r in match.group(3).split()]
            chosen = set(rules) if rules else everything
            if kind == "disable":
                disabled |= chosen
            elif kind == "enable":
                disabled = set() if not rules else disabled - chosen
            else:
                inline = bool(line[: match.start(1)].strip())
                per_line.setdefault(number if inline else number + 1, set()).update(chosen)
        state[number] = set(disabled)
    kept = []
    for issue in issues:
        name = YAMLLINT_IDS.get(issue.rule, issue.rule)
        off = state.get(issue.line, set()) | per_line.get(issue.line, set())
        if name in off:
            continue
        kept.append(issue)
    return kept
