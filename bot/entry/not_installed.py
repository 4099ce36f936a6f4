"""The stand-in for a command whose distribution is not installed: one line saying how to get it."""

from __future__ import annotations

import argparse
import sys

HINT = "arborist {command}: not installed in this environment; from a checkout: pip install -e ./sandbox (or make install)"


def refuse(command: str) -> int:
    print(HINT.format(command=command), file=sys.stderr)
    return 2


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """Nothing to parse: `bot.cli` answers before parsing, since the command's own options are unknown here."""


def run(args: argparse.Namespace) -> int:
    return refuse(args.command)
