"""`lab evaluate`: score a model on the taxonomy's seed questions, optionally against a baseline."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("model", help="model to evaluate: a Hugging Face model dir, a .gguf file, "
                        "smollm2-135m-instruct (the packaged real model) or a Hub repo id")
    parser.add_argument("--baseline", help="previous model (e.g. the last release) to compare with, item by item")
    parser.add_argument("--taxonomy", required=True, help="taxonomy root whose seed questions are asked")
    parser.add_argument("--out", default="report.json", help="report path; the Markdown rendering goes beside it (.md)")
    parser.add_argument("--heldout", help="messages JSONL for held-out perplexity (default: heldout_msgs.jsonl "
                        "beside MODEL when MODEL is a `lab train` final/ folder)")
    parser.add_argument("--min-effect", type=float, default=0.01, help="smallest mean ROUGE-L change that counts (0..1)")
    parser.add_argument("--allow-regression", action="store_true", help="let the gate pass a regression")
    parser.add_argument("--max-new-tokens", type=int, default=128, help="answer length bound (tokens)")
    parser.add_argument("--batch-size", type=int, default=8, help="prompts per generation batch")
    parser.add_argument("--seed", type=int, default=0, help="bootstrap seed")
    parser.add_argument("--gate", action="store_true", help="exit 1 when the gate blocks")


def run(args: argparse.Namespace) -> int:
    from lab.evaluate.runner import EvalOptions, evaluate, write_report
    from schemas.datacontract import HELDOUT_FILE

    if not 0 <= args.min_effect <= 1 or args.max_new_tokens < 1 or args.batch_size < 1:
        print("lab evaluate: --min-effect must be in 0..1, --max-new-tokens and --batch-size >= 1", file=sys.stderr)
        return 2
    heldout = args.heldout
    beside = Path(args.model).parent / HELDOUT_FILE
    if heldout is None and beside.is_file() and beside.stat().st_size > 0:
        heldout = str(beside)
    options = EvalOptions(min_effect=args.min_effect, allow_regression=args.allow_regression, seed=args.seed,
                          max_new_tokens=args.max_new_tokens, batch_size=args.batch_size, heldout=heldout,
                          progress=sys.stderr.isatty())
    from transformers.utils import logging as hf_logging

    hf_logging.disable_progress_bar()  # per-checkpoint "Writing model shards" bars would drown the loss lines
    try:
        report = evaluate(args.model, args.taxonomy, args.baseline, options)
    except (OSError, ValueError) as exc:
        print(f"lab evaluate: {exc}", file=sys.stderr)
        return 1
    json_path, md_path = write_report(report, args.out)
    rouge = report["metrics"]["rouge_l"]
    print(f"ROUGE-L {rouge['value']:.3f} (95% CI {rouge['ci'][0]:.3f}..{rouge['ci'][1]:.3f}) on {rouge['n']} questions")
    if "delta" in rouge:
        print(f"vs baseline {rouge['baseline']:.3f}: {rouge['delta']['mean']:+.3f} -> {rouge['delta']['verdict']}")
    print(f"gate: {report['gate']['decision']} — {report['gate']['reason']}")
    print(f"report: {json_path} and {md_path}")
    return 1 if args.gate and not report["gate"]["passed"] else 0
