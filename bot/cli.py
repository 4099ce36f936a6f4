"""`arborist`: run the GitHub App (`serve`) or a job worker (`worker`); other packages add commands.

Like `lab`, each subcommand is a module with `add_arguments(parser)` and `run(args) -> int`,
imported only when needed. Commands that are not the product (`demo`) come from the distributions
registered in the `arborist.commands` entry-point group, so the bot never imports them.
"""

from __future__ import annotations

import sys
from importlib.metadata import entry_points
from importlib.util import find_spec

from bot.entry import not_installed
from lab.cli import build_parser, dispatch
from schemas.masking import install_log_masking

COMMAND_GROUP = "arborist.commands"
SUBCOMMANDS: dict[str, tuple[str, str]] = {
    "serve": ("bot.entry.serve", "serve the webhook endpoint (FastAPI under uvicorn)"),
    "worker": ("bot.entry.worker", "claim and run queued jobs on this machine (one per GPU)"),
}
# Named in `arborist --help` even when not installed; running them then prints how to install them.
OPTIONAL: dict[str, str] = {
    "demo": "play the whole loop locally: PR, checks, /generate, merge, retrain, release",
}
NOT_INSTALLED = not_installed.__name__


def subcommands() -> dict[str, tuple[str, str]]:
    """The built-in commands, then each registered one (module path), then placeholders for missing ones."""
    commands = dict(SUBCOMMANDS)
    for point in entry_points(group=COMMAND_GROUP):
        if point.name not in commands and _importable(point.value):
            commands[point.name] = (point.value, OPTIONAL.get(point.name, f"{point.name} (from {point.value})"))
    for name, help_text in OPTIONAL.items():
        commands.setdefault(name, (NOT_INSTALLED, f"{help_text} [not installed]"))
    return commands


def _importable(module: str) -> bool:
    """A registration left behind by an uninstalled package must not break `arborist`: its top package must exist."""
    return find_spec(module.split(".")[0]) is not None


def main(argv: list[str] | None = None) -> int:
    install_log_masking()  # serve and worker logs never carry a secret, whichever handler writes them
    commands = subcommands()
    args = sys.argv[1:] if argv is None else argv
    if args and commands.get(args[0], ("",))[0] == NOT_INSTALLED:  # before parsing: its options are unknown here
        return not_installed.refuse(args[0])
    return dispatch(build_parser("arborist", "Arborist, the GitHub App.", commands), argv)


if __name__ == "__main__":
    sys.exit(main())
