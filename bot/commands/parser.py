"""Find the slash command in a comment and parse its arguments strictly: pure functions on text.

A command is a line that starts with `/name` (up to three spaces of indentation, as Markdown
allows). Quoted lines (`>`), fenced code blocks (``` or ~~~) and indented code (four spaces) never
trigger. Nor does anything a reader of the rendered comment cannot see or would read as code: HTML
comments (`<!-- -->`), `<pre>` and `<code>` elements and `<details>` blocks (hidden until opened)
are cut out before lines are matched, nested or not, and an unclosed one hides the rest of the
comment. The first command in a comment is the one that counts. Names are matched case-insensitively.
"""

from __future__ import annotations

import re
import shlex
from dataclasses import dataclass, field

from schemas.quoting import code_span

MAX_BODY_CHARS = 65_536  # GitHub's comment limit; anything longer is not a comment we read
MAX_LINE_CHARS = 1_000  # a command line longer than this is refused, not parsed
MAX_ARGS = 32
COMMAND_RE = re.compile(r"^ {0,3}/([A-Za-z][A-Za-z0-9_-]{0,31})(?:[ \t]+(.*))?[ \t]*$")
FENCE_RE = re.compile(r"^ {0,3}(`{3,}|~{3,})")
HIDING_RE = re.compile(r"<!--|-->|<(/?)(pre|code|details)(?=[\s/>])[^>]{0,1000}>", re.IGNORECASE)
COMMENT_OPEN = "<!--"


class ArgumentError(ValueError):
    """The arguments do not fit the command; the message says what is wrong, for the reply."""


@dataclass(frozen=True)
class RawCommand:
    """A command line as written: the name (lowercased), the raw argument text, and the whole line."""

    name: str
    arg_text: str
    line: str


@dataclass(frozen=True)
class Option:
    """One `--name VALUE` option taking an integer in [minimum, maximum]."""

    name: str
    metavar: str = "N"
    minimum: int = 1
    maximum: int = 1_000
    help: str = ""


@dataclass(frozen=True)
class ArgSpec:
    """What a command accepts: integer options and, optionally, positional taxonomy paths."""

    options: tuple[Option, ...] = ()
    positional: str | None = None  # metavar of positional arguments, None when none are accepted
    max_positional: int = 20
    positional_re: str = r"^(knowledge|compositional_skills|foundational_skills|skills)(/[A-Za-z0-9_.\-]+)*/?$"


@dataclass(frozen=True)
class Arguments:
    options: dict[str, int] = field(default_factory=dict)
    positional: tuple[str, ...] = ()


def _visible(line: str, hidden: list[str]) -> str:
    """The part of `line` a reader sees; `hidden` is the stack of elements still open (kept across lines)."""
    if not hidden and "<" not in line:
        return line
    seen, start = [], 0
    for match in HIDING_RE.finditer(line):
        token, closing, name = match.group(0), match.group(1), (match.group(2) or "").lower()
        if hidden and hidden[-1] == COMMENT_OPEN:  # inside a comment only its end counts
            if token == "-->":
                hidden.pop()
                start = match.end()
            continue
        if token == "-->":
            continue  # a stray end of comment is plain text
        if not hidden:
            seen.append(line[start:match.start()])
        if token == COMMENT_OPEN:
            hidden.append(COMMENT_OPEN)
        elif not closing:
            hidden.append(name)
        elif name in hidden:
            del hidden[len(hidden) - 1 - hidden[::-1].index(name):]
        start = match.end()
    if not hidden:
        seen.append(line[start:])
    return "".join(seen)


def find_command(body: str) -> RawCommand | None:
    """The first command line a reader sees outside quotes and code, or None (most comments have none)."""
    if not body or len(body) > MAX_BODY_CHARS:
        return None
    fence: str | None = None
    hidden: list[str] = []
    for raw in body.replace("\r\n", "\n").replace("\r", "\n").split("\n"):
        if fence is not None:
            match = FENCE_RE.match(raw)
            if match and match.group(1)[0] == fence[0] and len(match.group(1)) >= len(fence) \
                    and not raw.strip()[len(match.group(1)):].strip():
                fence = None
            continue
        was_hidden = bool(hidden)
        line = _visible(raw, hidden)
        match = None if was_hidden else FENCE_RE.match(line)
        if match:
            fence = match.group(1)
            continue
        if line.lstrip().startswith(">") or len(line) > MAX_LINE_CHARS:
            continue
        command = COMMAND_RE.match(line)
        if command:
            return RawCommand(command.group(1).lower(), (command.group(2) or "").strip(), line.strip())
    return None


def parse_arguments(arg_text: str, spec: ArgSpec) -> Arguments:
    """Parse strictly: unknown options, missing or malformed values and stray words are errors."""
    try:
        tokens = shlex.split(arg_text, comments=False, posix=True)
    except ValueError as exc:
        raise ArgumentError(f"cannot read the arguments ({exc})") from None
    if len(tokens) > MAX_ARGS:
        raise ArgumentError(f"too many arguments ({len(tokens)}; at most {MAX_ARGS})")
    by_name = {f"--{o.name}": o for o in spec.options}
    options: dict[str, int] = {}
    positional: list[str] = []
    i = 0
    while i < len(tokens):
        token = tokens[i]
        if token.startswith("-"):
            name, eq, inline = token.partition("=")
            option = by_name.get(name.lower())
            if option is None:
                known = ", ".join(by_name) or "none"
                raise ArgumentError(f"unknown option {code_span(name, 40)} (options: {known})")
            if option.name in options:
                raise ArgumentError(f"`--{option.name}` given twice")
            if eq:
                value = inline
            elif i + 1 < len(tokens):
                i += 1
                value = tokens[i]
            else:
                raise ArgumentError(f"`--{option.name}` needs a value ({option.metavar})")
            if not re.fullmatch(r"[0-9]{1,9}", value):
                raise ArgumentError(f"`--{option.name}` takes a whole number, not {code_span(value, 40)}")
            number = int(value)
            if not option.minimum <= number <= option.maximum:
                raise ArgumentError(f"`--{option.name}` must be between {option.minimum} and {option.maximum}")
            options[option.name] = number
        else:
            if spec.positional is None:
                raise ArgumentError(f"unexpected argument {code_span(token, 80)}")
            if ".." in token.split("/") or not re.match(spec.positional_re, token):
                raise ArgumentError(f"{code_span(token, 80)} is not a taxonomy path (knowledge/... or "
                                    "compositional_skills/...)")
            if token not in positional:
                positional.append(token)
        i += 1
    if len(positional) > spec.max_positional:
        raise ArgumentError(f"too many paths ({len(positional)}; at most {spec.max_positional})")
    return Arguments(options, tuple(positional))
