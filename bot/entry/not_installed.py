"""The stand-in for a command whose distribution is not installed: one line saying how to get it."""

from __future__ import annotations

import argparse
import sys

HINT = "arborist {command}: not installed in this environment; from a checkout: pip install -e ./sandbox (or make install)"


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("ignored", nargs=argparse.REMAINDER, help=argparse.SUPPRESS)


def run(args: argparse.Namespace) -> int:
    print(HINT.format(command=args.command), file=sys.stderr)
    return 2
