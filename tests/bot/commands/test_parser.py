"""Table-driven tests of finding a command in a comment and parsing its arguments."""

from __future__ import annotations

import pytest

from bot.commands.parser import ArgSpec, ArgumentError, Option, find_command, parse_arguments
from bot.commands.registry import lookup

FIND_CASES = [
    # (comment body, expected (name, arg text) or None)
    ("/generate", ("generate", "")),
    ("/generate --samples 20", ("generate", "--samples 20")),
    ("Looks good!\n/generate knowledge/science/astronomy", ("generate", "knowledge/science/astronomy")),
    ("  /retry", ("retry", "")),
    ("/GENERATE", ("generate", "")),
    ("/Cancel  ", ("cancel", "")),
    ("/frobnicate now", ("frobnicate", "now")),
    ("> /generate", None),
    ("   > /generate\nthanks", None),
    ("```\n/generate\n```", None),
    ("~~~sh\n/generate\n~~~", None),
    ("````\n```\n/generate\n```\n````", None),
    ("```\ncode\n```\n/generate --samples 3", ("generate", "--samples 3")),
    ("    /generate", None),  # indented code block
    ("please run /generate", None),  # not at the start of the line
    ("/path/to/file is wrong", None),
    ("", None),
    ("/generate\n/cancel", ("generate", "")),  # the first command counts
    ("\r\n/help\r\n", ("help", "")),
    ("/" + "x" * 40, None),  # names are short
]


@pytest.mark.parametrize(("body", "expected"), FIND_CASES)
def test_find_command_matches_only_lines_outside_quotes_and_code(body, expected):
    found = find_command(body)
    assert (None if found is None else (found.name, found.arg_text)) == expected


HIDDEN_CASES = [
    # commands a reader of the rendered comment does not see, or sees as code: never run
    "<!-- /generate -->",
    "<!--\n/generate\n-->",
    "Thanks!\n<!--\n/generate --samples 1000\n",  # an unclosed comment hides the rest
    "<pre>\n/generate\n</pre>",
    "<PRE lang=\"sh\">\n/generate\n</PRE>",
    "<code>/generate</code>",
    "<code>\n/generate\n</code>",
    "<details>\n<summary>notes</summary>\n\n/generate\n</details>",
    "<details open>\n\n/generate\n\n</details>",
    "<details>\n<details>\n</details>\n/generate\n</details>",  # nested: the outer one still hides
    "<pre>\n<!--\n</pre>\n/generate\n-->",  # inside the comment, </pre> is text
]
VISIBLE_CASES = [
    # hidden parts before or after a command do not hide it
    ("<!-- a note for reviewers -->\n/generate", "generate"),
    ("<!-- x -->/help", "help"),
    ("<details>\n\nlogs\n</details>\n/retry", "retry"),
    ("<pre>x</pre>\n/cancel", "cancel"),
    ("<!-- <pre> -->\n/help", "help"),
    ("<codex>\n/help", "help"),  # not one of the hiding elements
    ("/generate --> trailing", "generate"),
]


@pytest.mark.parametrize("body", HIDDEN_CASES)
def test_command_in_html_comment_pre_code_or_details_does_not_run(body):
    assert find_command(body) is None


@pytest.mark.parametrize(("body", "name"), VISIBLE_CASES)
def test_command_after_a_closed_hidden_part_still_runs(body, name):
    found = find_command(body)
    assert found is not None and found.name == name


def test_many_unclosed_tags_are_read_quickly():
    import time

    started = time.perf_counter()
    assert find_command(("<pre " * 13_000)[:65_000]) is None
    assert time.perf_counter() - started < 0.5


def test_an_overlong_comment_is_not_read():
    assert find_command("/generate\n" + "a" * 70_000) is None


GENERATE = lookup("generate").args
ARG_CASES = [
    ("", {}, ()),
    ("--samples 20", {"samples": 20}, ()),
    ("--samples=7", {"samples": 7}, ()),
    ("--SAMPLES 7", {"samples": 7}, ()),
    ("knowledge/science/astronomy/constellations", {}, ("knowledge/science/astronomy/constellations",)),
    ("--samples 5 compositional_skills/writing/poems/ knowledge/a",
     {"samples": 5}, ("compositional_skills/writing/poems/", "knowledge/a")),
    ("knowledge/a knowledge/a", {}, ("knowledge/a",)),
]


@pytest.mark.parametrize(("text", "options", "positional"), ARG_CASES)
def test_generate_arguments_parse(text, options, positional):
    parsed = parse_arguments(text, GENERATE)
    assert parsed.options == options
    assert parsed.positional == positional


BAD_ARGS = [
    ("--samples", "needs a value"),
    ("--samples twenty", "whole number"),
    ("--samples -3", "whole number"),
    ("--samples 0", "between 1 and"),
    ("--samples 100000", "between 1 and"),
    ("--samples 2 --samples 3", "given twice"),
    ("--teacher big", "unknown option"),
    ("../etc/passwd", "not a taxonomy path"),
    ("knowledge/../../x", "not a taxonomy path"),
    ("/abs/path", "not a taxonomy path"),
    ("knowledge/a;rm", "not a taxonomy path"),
    ("'unterminated", "cannot read"),
    (" ".join(f"knowledge/l{i}" for i in range(40)), "too many"),
]


@pytest.mark.parametrize(("text", "message"), BAD_ARGS)
def test_malformed_generate_arguments_are_refused_with_a_reason(text, message):
    with pytest.raises(ArgumentError, match=message):
        parse_arguments(text, GENERATE)


def test_a_command_without_arguments_refuses_stray_words():
    with pytest.raises(ArgumentError, match="unexpected argument"):
        parse_arguments("now please", lookup("cancel").args)


def test_option_bounds_come_from_the_spec():
    spec = ArgSpec(options=(Option("n", "N", 2, 4),))
    assert parse_arguments("--n 4", spec).options == {"n": 4}
    with pytest.raises(ArgumentError):
        parse_arguments("--n 5", spec)
