"""Plain-words explanations of YAML's traps, for people writing their first qna.yaml."""

from __future__ import annotations

# Fragments of PyYAML/libyaml problem texts -> what to do about them.
SYNTAX_HINTS: tuple[tuple[str, str], ...] = (
    ("mapping values are not allowed", "A `: ` inside an unquoted value starts a new key. Put the whole value in "
     "double quotes, or write it as a block: `answer: |` and the text indented on the next lines."),
    ("found character '\\t'", "YAML does not allow tabs for indentation; use spaces."),
    ("found a tab character", "YAML does not allow tabs for indentation; use spaces."),
    ("could not find expected ':'", "A line is missing its `key:` or is indented differently from its "
     "neighbours; check this line and the one above it."),
    ("did not find expected key", "The indentation does not line up: keys of the same item must start in the "
     "same column, and a new list item starts with `- `."),
    ("did not find expected '-' indicator", "List items (`- `) must line up in the same column."),
    ("found undefined alias", "`*name` refers to an anchor that does not exist; if you meant a literal `*`, "
     "put the value in quotes."),
    ("found unexpected end of stream", "A quote or bracket is opened but never closed."),
    ("found unknown escape character", "Inside double quotes a backslash starts an escape; write `\\\\` for a "
     "backslash, or use single quotes."),
    ("expected a single document", "The file has more than one `---` document; a qna.yaml holds exactly one."),
    ("found character '@'", "`@` and `` ` `` cannot start an unquoted value; put the value in quotes."),
    ("found character '`'", "`@` and `` ` `` cannot start an unquoted value; put the value in quotes."),
    ("found duplicate anchor", "Each `&anchor` name may be defined only once."),
)
DEFAULT_SYNTAX_HINT = ("Check the indentation and quoting around this position; "
                       "an editor with YAML support shows the problem as you type.")

# YAML 1.1 resolves these plain (unquoted) scalars to non-strings.
IMPLICIT_KINDS = {
    "bool": "the boolean true/false",
    "int": "a whole number",
    "float": "a decimal number",
    "timestamp": "a date",
    "binary": "binary data",
}


def syntax_hint(problem: str) -> str:
    """A fix hint for a YAML parser problem message."""
    for fragment, hint in SYNTAX_HINTS:
        if fragment in problem:
            return hint
    return DEFAULT_SYNTAX_HINT


def implicit_type_message(field: str, tag: str, raw: str) -> tuple[str, str]:
    """Why `answer: yes` fails: YAML 1.1 read the unquoted text as something other than text."""
    kind = IMPLICIT_KINDS.get(tag, f"a {tag} value")
    message = (f"`{field}` must be text, but YAML reads the unquoted `{raw}` as {kind}, not as the words "
               "you typed (YAML 1.1 treats yes/no/on/off/true/false, numbers like 1.10 and times like 12:30 "
               "this way).")
    hint = f"Put the value in quotes: `{field}: \"{raw}\"`."
    return message, hint
