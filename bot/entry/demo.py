"""`arborist demo`: play Arborist's whole job on this machine, on loopback, with no account or download.

Starts stand-ins of GitHub and the Hugging Face Hub, the bot and a worker, then plays the story from
a broken pull request to a pulled release answering a trained question. Prints a timeline; writes
every comment and check run the bot produced to --out. Exits 1 naming the step that failed.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

DEFAULT_OUT = "demo-out"
DEFAULT_TIMEOUT_S = 300  # the whole story must fit in five minutes on 2 CPU cores


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--out", default=DEFAULT_OUT, type=Path,
                        help=f"folder for the comments, check runs, logs and summary (default: {DEFAULT_OUT}/)")
    parser.add_argument("--fast", action="store_true",
                        help="smaller data and fewer training steps: the same story, sooner (used by the tests)")
    parser.add_argument("--teacher", default="scripted",
                        help="teacher for /generate and retraining: 'scripted' (default, instant), a .gguf file, "
                             "a model folder, or an OpenAI-compatible URL")
    parser.add_argument("--timeout", type=float, default=DEFAULT_TIMEOUT_S,
                        help=f"give up after this many seconds (default: {DEFAULT_TIMEOUT_S})")
    parser.add_argument("--keep", action="store_true",
                        help="keep the working folder (git repos, job store, models) under --out/work")


def run(args: argparse.Namespace) -> int:
    from bot.demo.story import DemoOptions, play

    options = DemoOptions(out=args.out.resolve(), fast=args.fast, teacher=args.teacher,
                          timeout_s=args.timeout, keep=args.keep)
    ok, failed_step, reason = play(options)
    if ok:
        return 0
    print(f"\narborist demo failed at step '{failed_step}': {reason}", file=sys.stderr)
    print(f"logs and everything produced so far: {options.out}", file=sys.stderr)
    return 1
