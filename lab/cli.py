"""`lab`: the command line for contributors and consumers.

Each subcommand lives in its own module under `lab.commands` with two functions,
`add_arguments(parser)` and `run(args) -> int`. Modules are imported only when their
subcommand runs (and for `--help`), and must not import heavy libraries at module level,
so `lab validate` starts fast.
"""

from __future__ import annotations

import argparse
import importlib
import sys

# name -> (module, one-line help). Order is the order shown in --help.
SUBCOMMANDS: dict[str, tuple[str, str]] = {
    "validate": ("lab.commands.validate", "check taxonomy files (schema, rules, hostile input)"),
    "diff": ("lab.commands.diff", "list the leaves that changed between two revisions"),
    "generate": ("lab.commands.generate", "generate synthetic training data from leaves with a teacher model"),
    "train": ("lab.commands.train", "tune a student model: knowledge phase, then skills phase"),
    "evaluate": ("lab.commands.evaluate", "score a model on the taxonomy's seed questions, against a baseline"),
    "publish": ("lab.commands.publish", "publish a trained checkpoint as a release"),
    "pull": ("lab.commands.pull", "download a release into the Hugging Face cache"),
    "releases": ("lab.commands.releases", "list the releases of a model repository"),
    "chat": ("lab.commands.chat", "chat with a model in the terminal"),
}


def _load(module_name: str):
    try:
        return importlib.import_module(module_name)
    except ModuleNotFoundError as exc:
        if exc.name == module_name:
            return None  # subcommand not available in this build
        raise


def build_parser(
    prog: str = "lab",
    description: str = "Arborist's taxonomy and model tools.",
    subcommands: dict[str, tuple[str, str]] = SUBCOMMANDS,
) -> argparse.ArgumentParser:
    from lab import __version__

    parser = argparse.ArgumentParser(prog=prog, description=description)
    parser.add_argument("--version", action="version", version=f"{prog} {__version__}")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")
    for name, (module_name, help_text) in subcommands.items():
        module = _load(module_name)
        if module is None:
            continue
        sub_parser = sub.add_parser(name, help=help_text, description=help_text)
        module.add_arguments(sub_parser)
        sub_parser.set_defaults(_module=module)
    return parser


def dispatch(parser: argparse.ArgumentParser, argv: list[str] | None) -> int:
    """Parse `argv` and run the chosen subcommand; exit codes: its own, 2 for usage, 130 on Ctrl-C."""
    args = parser.parse_args(argv)
    if not getattr(args, "command", None):
        parser.print_help()
        return 2
    try:
        return int(args._module.run(args) or 0)
    except KeyboardInterrupt:
        print("interrupted", file=sys.stderr)
        return 130


def main(argv: list[str] | None = None) -> int:
    return dispatch(build_parser(), argv)


if __name__ == "__main__":
    sys.exit(main())
