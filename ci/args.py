"""The command-line arguments every PR step shares (`ci.generate`, `ci.precheck`): one spelling for the bot to send."""

from __future__ import annotations

import argparse
from collections.abc import Callable


def bounded_int(ceiling: int) -> Callable[[str], int]:
    """An argparse type: a whole number from 1 to `ceiling` (a hard limit whatever the repo config says)."""
    def parse(text: str) -> int:
        value = int(text)
        if not 1 <= value <= ceiling:
            raise argparse.ArgumentTypeError(f"must be between 1 and {ceiling}")
        return value
    parse.__name__ = "whole number"  # argparse names the type in its error
    return parse


def pr_step_parser(prog: str, description: str) -> argparse.ArgumentParser:
    """A parser with the PR, the head commit, the job and where to report; the step adds its own options."""
    parser = argparse.ArgumentParser(prog=prog, description=description)
    parser.add_argument("--repo", required=True, help="the taxonomy repository, owner/name")
    parser.add_argument("--pr", type=int, required=True, help="the pull request number")
    parser.add_argument("--sha", required=True, help="the PR head commit to read (full SHA)")
    parser.add_argument("--job-id", type=int, required=True, help="the Arborist job id")
    parser.add_argument("--status-comment-id", type=int, default=None, help="the PR's status comment")
    parser.add_argument("--check-run-id", type=int, default=None, help="the job's check run")
    parser.add_argument("--leaf", action="append", default=[], metavar="PATH",
                        help="only this leaf (repeatable; default: every changed leaf)")
    return parser
