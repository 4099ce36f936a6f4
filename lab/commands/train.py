"""`lab train`: tune a student model on `lab generate`'s data (knowledge phase, then skills phase)."""

from __future__ import annotations

import argparse
import json
import sys


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--data", required=True, help="directory with knowledge_train_msgs.jsonl and/or skills_train_msgs.jsonl")
    parser.add_argument("--base", required=True, help="base model: a Hugging Face model dir, a .gguf file (dequantised once), "
                        "smollm2-135m-instruct (the packaged real model) or a Hub repo id")
    parser.add_argument("--out", required=True, help="output directory (checkpoints, final/, metrics.jsonl)")
    parser.add_argument("--config", help="YAML or JSON file of training config overrides (see docs/training.md)")
    parser.add_argument("--resume", action="store_true", help="continue the run in --out from its newest checkpoint")
    parser.add_argument("--set", action="append", default=[], metavar="KEY=JSON",
                        help="override one config key, e.g. --set method=\"lora\" --set max_steps=20 (repeatable)")
    parser.add_argument("--no-progress", action="store_true", help="no progress bar (loss lines are still printed)")
    parser.add_argument("--stop-after-steps", type=int, help=argparse.SUPPRESS)  # debug: simulate a crash
    parser.add_argument("--debug-step-delay", type=float, default=0.0, help=argparse.SUPPRESS)


def _overrides(pairs: list[str]) -> dict:
    values = {}
    for pair in pairs:
        key, sep, raw = pair.partition("=")
        if not sep:
            raise ValueError(f"--set {pair!r}: expected KEY=VALUE")
        try:
            values[key.strip()] = json.loads(raw)
        except json.JSONDecodeError:
            values[key.strip()] = raw  # a bare string such as lora
    return values


def run(args: argparse.Namespace) -> int:
    from lab.train.config import apply_overrides, load_config
    from lab.train.trainer import RunOptions, StopRequested, train

    try:
        config = apply_overrides(load_config(args.config), _overrides(args.set))
    except (OSError, ValueError) as exc:
        print(f"lab train: {exc}", file=sys.stderr)
        return 2
    options = RunOptions(resume=args.resume, stop_after_steps=args.stop_after_steps,
                         step_delay_s=args.debug_step_delay, progress=not args.no_progress and sys.stderr.isatty(),
                         log=lambda line: print(line, flush=True))
    from transformers.utils import logging as hf_logging

    hf_logging.disable_progress_bar()  # per-checkpoint "Writing model shards" bars would drown the loss lines
    try:
        summary = train(args.data, args.base, args.out, config, options)
    except StopRequested as exc:
        print(f"lab train: {exc}", file=sys.stderr)
        return 3
    except MemoryError as exc:
        print(f"lab train: {exc}", file=sys.stderr)
        return 4
    except (OSError, ValueError) as exc:
        print(f"lab train: {exc}", file=sys.stderr)
        return 1
    if "final" in summary:  # under torchrun only rank 0 writes the final model
        print(f"final model: {summary['final']}")
    return 0
