"""The registry is the one source of /help, the README table and docs/commands.md."""

from __future__ import annotations

from pathlib import Path

from bot.commands.registry import COMMANDS, lookup, render_doc, render_help, render_table

DOC = Path(__file__).resolve().parents[3] / "docs" / "commands.md"


def test_committed_commands_doc_matches_the_registry():
    assert DOC.read_text() == render_doc(), "docs/commands.md is stale: python -m bot.commands.registry > docs/commands.md"


def test_every_spec_is_complete_and_bound_to_its_function():
    import bot.handlers.comments  # noqa: F401 - importing the command modules binds them
    from bot.commands import handlers, preview
    from bot.commands.binding import check_bindings, handler_for

    check_bindings()
    for spec in COMMANDS:
        assert spec.usage.startswith(f"/{spec.name}") and spec.description and spec.examples
        assert lookup(spec.name.upper()) is spec
    assert handler_for(lookup("generate")) is handlers.generate and handler_for(lookup("help")) is handlers.help_
    assert handler_for(lookup("preview")) is preview.preview


def test_a_binding_to_an_unknown_or_taken_command_fails_when_the_module_loads():
    import pytest

    from bot.commands import handlers
    from bot.commands.binding import BindingError, answers

    with pytest.raises(BindingError, match="no such command"):
        answers("deploy")(handlers.generate)
    with pytest.raises(BindingError, match="no such command"):
        answers("Generate")(handlers.generate)
    with pytest.raises(BindingError, match="answered twice"):
        answers("generate")(handlers.cancel)


def test_a_command_without_a_function_stops_start_up():
    import pytest

    from bot.commands.binding import BindingError, check_bindings
    from bot.commands.registry import CommandSpec

    unbound = CommandSpec("frobnicate", "/frobnicate", "does nothing", "everyone", ("/frobnicate",))
    with pytest.raises(BindingError, match="/frobnicate"):
        check_bindings((*COMMANDS, unbound))


def test_every_example_parses_under_its_own_spec():
    from bot.commands.parser import find_command, parse_arguments

    for spec in COMMANDS:
        for example in spec.examples:
            found = find_command(example)
            assert found is not None and found.name == spec.name
            parse_arguments(found.arg_text, spec.args)  # raises if an example is wrong


def test_table_and_help_list_every_command_once():
    table = render_table()
    for spec in COMMANDS:
        assert sum(line.startswith(f"| `/{spec.name}") for line in table.splitlines()) == 1
    assert table in render_help()
