"""The README's promises stay true: its generated tables match the code, and CI runs its test command."""

from __future__ import annotations

from tests.conftest import REPO_ROOT

README = (REPO_ROOT / "README.md").read_text(encoding="utf-8")


def _block(name: str) -> str:
    start, end = f"<!-- {name}:start -->\n", f"<!-- {name}:end -->"
    return README.split(start)[1].split(end)[0]


def test_readme_commands_table_is_the_registry_rendered():
    from bot.commands.registry import render_table

    assert _block("commands-table") == render_table()


def test_readme_config_reference_is_the_schema_rendered():
    from schemas.repo_config import render_config_reference

    assert _block("config-reference") == render_config_reference()


def test_ci_runs_exactly_the_readme_test_command():
    commands = [line.split("#")[0].strip() for line in README.splitlines() if line.startswith("make ")]
    assert "make test" in commands and "make demo" in commands
    ci_lines = [ln.strip() for ln in (REPO_ROOT / ".ci" / "run").read_text().splitlines()
                if ln.strip() and not ln.startswith(("#", "set ", "cd "))]
    assert ci_lines == ["make test"]


def test_every_lab_subcommand_is_documented_in_the_readme():
    from lab.cli import SUBCOMMANDS

    for name in SUBCOMMANDS:
        assert f"lab {name}" in README, name
