"""`evaluate()`: score a model (and optionally a baseline) on a taxonomy's seed questions and held-out data."""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from lab.evaluate.items import EvalItem, items_from_leaves, load_leaves
from lab.evaluate.report import build_report
from lab.evaluate.scoring import exact_match, rouge_l

MAX_HELDOUT_RECORDS = 2000  # perplexity is a sample, not a full pass over the data


@dataclass
class EvalOptions:
    min_effect: float = 0.01  # smallest mean ROUGE-L change (0..1) that counts
    allow_regression: bool = False  # the gate passes regressions too
    seed: int = 0  # bootstrap seed
    max_new_tokens: int = 128  # answer bound (tokens)
    batch_size: int = 8  # prompts per generation batch
    heldout: str | None = None  # messages JSONL for perplexity (e.g. train's heldout_msgs.jsonl)
    progress: bool = True


def _read_heldout(path: str | None) -> list[dict[str, Any]]:
    if not path or not Path(path).is_file():
        return []
    from lab.train.data import read_messages

    return read_messages(path)[:MAX_HELDOUT_RECORDS]


def score_model(model_ref: str, items: list[EvalItem], heldout: list[dict[str, Any]], options: EvalOptions,
                log: Callable[[str], None] = print) -> dict[str, Any]:
    """Answers, per-item scores and per-leaf perplexity of one model."""
    from tqdm.auto import tqdm

    from lab.evaluate.model import generate_answers, load, perplexity_by_leaf

    model, tokenizer, device = load(model_ref)
    with tqdm(total=len(items), desc=f"answering ({Path(model_ref).name})", unit="q", disable=not options.progress,
              leave=False) as bar:
        answers = generate_answers(model, tokenizer, device, [i.messages for i in items], options.max_new_tokens,
                                   options.batch_size, advance=bar.update)
    perplexity = perplexity_by_leaf(model, tokenizer, device, heldout) if heldout else {}
    log(f"{model_ref}: answered {len(items)} seed questions")
    return {
        "answers": answers,
        "rouge_l": [rouge_l(a, i.reference) for a, i in zip(answers, items, strict=True)],
        "exact_match": [exact_match(a, i.reference) for a, i in zip(answers, items, strict=True)],
        "perplexity": perplexity,
    }


def evaluate(model_ref: str, taxonomy: str | Path, baseline_ref: str | None = None, options: EvalOptions | None = None,
             log: Callable[[str], None] = print) -> dict[str, Any]:
    """The full evaluation report as a dict (see docs/training.md for its fields)."""
    options = options or EvalOptions()
    leaves, problems = load_leaves(taxonomy)
    items = items_from_leaves(leaves)
    if not items:
        raise ValueError(f"{taxonomy}: no leaf with seed questions to evaluate")
    heldout = _read_heldout(options.heldout)
    model_scores = score_model(model_ref, items, heldout, options, log)
    baseline_scores = score_model(baseline_ref, items, heldout, options, log) if baseline_ref else None
    report = build_report(items, model_scores, baseline_scores, min_effect=options.min_effect,
                          allow_regression=options.allow_regression, seed=options.seed)
    report.update({"model": str(model_ref), "baseline": str(baseline_ref) if baseline_ref else None,
                   "taxonomy": str(taxonomy), "unreadable_leaves": problems,
                   "heldout_records": len(heldout), "max_new_tokens": options.max_new_tokens})
    return report


def write_report(report: dict[str, Any], out: str | Path) -> tuple[Path, Path]:
    """report.json and its Markdown rendering (same name, .md)."""
    from lab.evaluate.report import render_markdown

    out = Path(out)
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps(report, indent=2, ensure_ascii=False), encoding="utf-8")
    markdown = out.with_suffix(".md")
    markdown.write_text(render_markdown(report), encoding="utf-8")
    return out, markdown
