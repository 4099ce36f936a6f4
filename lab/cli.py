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
from collections.abc import Iterator

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

# Expected failures, as (module, class): bad input or environment, never a bug. One that a subcommand
# did not handle becomes one line and exit code 2. Classes are looked up only in modules already
# imported (an error of a class whose module never loaded cannot have been raised), so nothing heavy loads.
EXPECTED_ERRORS: tuple[tuple[str, str], ...] = (
    ("lab.errors", "LabError"),
    ("schemas.config_model", "ConfigError"),  # a refused setting or config value, named in one line
    ("lab.publish.release", "PublishError"),
    ("lab.models.gguf_export", "GGUFExportError"),
    ("lab.models.resolve", "TeacherNotFound"),
    ("lab.generate.documents", "DocumentError"),
    ("lab.generate.leaves", "LeafSelectionError"),
    ("lab.generate.backends.base", "BackendError"),
    ("lab.taxonomy.diff", "DiffError"),
    ("safetensors", "SafetensorError"),  # a truncated or corrupt weights file
    ("huggingface_hub.errors", "HfHubHTTPError"),
    ("huggingface_hub.errors", "LocalEntryNotFoundError"),
    ("httpx2", "HTTPError"),  # the Hub cannot be reached (huggingface_hub's transport)
    ("httpx", "HTTPError"),
    ("builtins", "FileNotFoundError"),
    ("builtins", "PermissionError"),
    ("builtins", "IsADirectoryError"),
    ("builtins", "NotADirectoryError"),
)
MAX_ERROR_CHARS = 500


def _expected_errors() -> Iterator[type[BaseException]]:
    for module_name, class_name in EXPECTED_ERRORS:
        module = sys.modules.get(module_name)
        error = getattr(module, class_name, None) if module is not None else None
        if isinstance(error, type) and issubclass(error, BaseException):
            yield error


def one_line(exc: BaseException) -> str:
    """An exception as one bounded line: its message with newlines folded, or its class name when empty."""
    text = " ".join(str(exc).split()) or type(exc).__name__
    return text if len(text) <= MAX_ERROR_CHARS else text[: MAX_ERROR_CHARS - 1] + "…"


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
    """Parse `argv` and run the chosen subcommand.

    Exit codes: its own; 2 for usage and for an expected error it left unhandled; 130 on Ctrl-C.
    """
    args = parser.parse_args(argv)
    if not getattr(args, "command", None):
        parser.print_help()
        return 2
    try:
        return int(args._module.run(args) or 0)
    except KeyboardInterrupt:
        print("interrupted", file=sys.stderr)
        return 130
    except Exception as exc:
        if not isinstance(exc, tuple(_expected_errors())):
            raise  # a bug: keep the traceback
        print(f"{parser.prog} {args.command}: {one_line(exc)}", file=sys.stderr)
        return 2


def main(argv: list[str] | None = None) -> int:
    return dispatch(build_parser(), argv)


if __name__ == "__main__":
    sys.exit(main())
