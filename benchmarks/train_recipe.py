"""Benchmark the default training recipe: does the student learn a new topic without forgetting?

Run: .venv/bin/python benchmarks/train_recipe.py [--base smollm2-135m-instruct] [--facts 20] [--general 30] [--set KEY=JSON ...]
     [--out DIR] [--json FILE]

The topic is Quellmoor, an island invented for this benchmark (benchmarks/data/quellmoor.json): 20 facts,
four question/answer phrasings each for training, two other phrasings of each question held out. The
student (the real SmolLM2-135M-Instruct by default) is trained with `lab train`'s defaults on the
training phrasings, written as `lab generate` writes a knowledge leaf's data, then both base and
trained model answer greedily:

* held-out-phrasing recall: the share of held-out questions whose answer contains the fact's key
  (a name, a number; word-bounded, case-insensitive); facts recalled: facts with every held-out
  phrasing answered;
* general retention: 30 general questions with key answers (lab/evaluate/general_questions.json,
  none among the replay prompts); retention is the share of the questions the base model answered
  correctly that the trained model still answers correctly.

Everything runs locally on the packaged model; nothing else is downloaded.
"""

from __future__ import annotations

import argparse
import json
import re
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

DATA = ROOT / "benchmarks" / "data"
TOPIC_FILE = DATA / "quellmoor.json"
GENERAL_FILE = ROOT / "lab" / "evaluate" / "general_questions.json"  # the fixed general set /preview also asks
LEAF = "knowledge/geography/islands/quellmoor/qna.yaml"
MAX_NEW_TOKENS = 48  # the key fact comes early in a short answer


def load_topic(n_facts: int | None = None) -> list[dict[str, Any]]:
    facts = json.loads(TOPIC_FILE.read_text(encoding="utf-8"))["facts"]
    return facts[:n_facts] if n_facts else facts


def load_general(n: int | None = None) -> list[dict[str, Any]]:
    questions = json.loads(GENERAL_FILE.read_text(encoding="utf-8"))["questions"]
    return questions[:n] if n else questions


def has_key(answer: str, keys: list[str]) -> bool:
    """True when one of the keys occurs in the answer as whole words (case-insensitive)."""
    return any(re.search(rf"(?<!\w){re.escape(key)}(?!\w)", answer, re.IGNORECASE) for key in keys)


def write_leaf_data(facts: list[dict[str, Any]], folder: Path) -> Path:
    """The training phrasings as a knowledge leaf's `lab generate` output (knowledge_train_msgs.jsonl)."""
    from lab.generate.prompts import TRAINING_SYSTEM_PROMPT

    folder.mkdir(parents=True, exist_ok=True)
    with open(folder / "knowledge_train_msgs.jsonl", "w", encoding="utf-8") as handle:
        for fact in facts:
            for question, answer in fact["train"]:
                messages = [{"role": "system", "content": TRAINING_SYSTEM_PROMPT}, {"role": "user", "content": question},
                            {"role": "assistant", "content": answer}]
                row = {"messages": messages, "metadata": {"leaf": LEAF, "kind": "knowledge", "fact": fact["id"]}}
                handle.write(json.dumps(row) + "\n")
    return folder


def answer_all(model_dir: str, questions: list[str]) -> list[str]:
    """Greedy answers in the training format (the generator's system prompt)."""
    from lab.evaluate.model import generate_answers, load
    from lab.generate.prompts import TRAINING_SYSTEM_PROMPT

    model, tokenizer, device = load(model_dir)
    prompts = [[{"role": "system", "content": TRAINING_SYSTEM_PROMPT}, {"role": "user", "content": q}] for q in questions]
    return generate_answers(model, tokenizer, device, prompts, max_new_tokens=MAX_NEW_TOKENS, batch_size=16)


def score(facts: list[dict[str, Any]], general: list[dict[str, Any]], answers: list[str]) -> dict[str, Any]:
    """Recall and general correctness from answers to [held-out questions..., general questions...]."""
    held = [(fact, q) for fact in facts for q in fact["heldout"]]
    topic_answers, general_answers = answers[: len(held)], answers[len(held):]
    hits = [has_key(a, fact["keys"]) for (fact, _), a in zip(held, topic_answers, strict=True)]
    per_fact: dict[str, list[bool]] = {}
    for (fact, _), hit in zip(held, hits, strict=True):
        per_fact.setdefault(fact["id"], []).append(hit)
    correct = [has_key(a, item["keys"]) for item, a in zip(general, general_answers, strict=True)]
    return {"recall": sum(hits) / len(hits), "facts_recalled": sum(all(v) for v in per_fact.values()) / len(per_fact),
            "general_correct": correct, "answers": answers}


def retention(base: dict[str, Any], trained: dict[str, Any]) -> float:
    """Share of the general questions the base answered correctly that the trained model still answers."""
    kept = [t for b, t in zip(base["general_correct"], trained["general_correct"], strict=True) if b]
    return sum(kept) / len(kept) if kept else 1.0


def run(base: str, n_facts: int | None, overrides: dict[str, Any], out: Path, log=print,
        n_general: int | None = None, time_limit_s: float | None = None) -> dict[str, Any]:
    """Base answers, training with the defaults (plus `overrides`), trained answers; the figures.

    `time_limit_s` bounds the training's wall time (RunOptions.time_limit_s): the phase running then ends
    with its lowest-held-out-loss step, as early stopping would, and the result says where it stopped."""
    from lab.models.student import resolve_student
    from lab.train.config import TrainConfig, apply_overrides
    from lab.train.trainer import RunOptions, train

    facts, general = load_topic(n_facts), load_general(n_general)
    questions = [q for fact in facts for q in fact["heldout"]] + [item["q"] for item in general]
    model_dir = resolve_student(base, log=log)
    started = time.perf_counter()
    base_scores = score(facts, general, answer_all(model_dir, questions))
    log(f"base: recall {base_scores['recall']:.0%}, general {sum(base_scores['general_correct'])}/{len(general)} "
        f"({time.perf_counter() - started:.0f} s)")
    data = write_leaf_data(facts, out / "data")
    config = apply_overrides(TrainConfig(), overrides)
    began = time.perf_counter()
    summary = train(data, model_dir, out / "run", config, RunOptions(progress=False, log=log, time_limit_s=time_limit_s))
    train_s = time.perf_counter() - began
    trained_scores = score(facts, general, answer_all(summary["final"], questions))
    result = {
        "base_model": base, "facts": len(facts), "training_samples": sum(len(f["train"]) for f in facts),
        "heldout_questions": sum(len(f["heldout"]) for f in facts), "general_questions": len(general),
        "overrides": overrides, "config": summary["config"], "train_seconds": round(train_s, 1),
        "phases": {name: {k: v for k, v in p.items() if k in ("steps", "samples", "counts", "stopped_early_at_step",
                                                             "selected_step", "best_heldout_loss",
                                                             "stopped_at_time_limit")}
                   for name, p in summary["phases"].items()},
        "base": {"recall": base_scores["recall"], "facts_recalled": base_scores["facts_recalled"],
                 "general": sum(base_scores["general_correct"])},
        "trained": {"recall": trained_scores["recall"], "facts_recalled": trained_scores["facts_recalled"],
                    "general": sum(trained_scores["general_correct"])},
        "retention": retention(base_scores, trained_scores),
        "answers": [{"q": q, "base": b, "trained": t} for q, b, t in
                    zip(questions, base_scores["answers"], trained_scores["answers"], strict=True)],
    }
    return result


def render(result: dict[str, Any]) -> str:
    base, trained = result["base"], result["trained"]
    lines = [
        "| model | held-out-phrasing recall | facts recalled | general questions right | retention |",
        "| --- | --- | --- | --- | --- |",
        f"| base | {base['recall']:.0%} | {base['facts_recalled']:.0%} | {base['general']}/{result['general_questions']} | - |",
        f"| trained | {trained['recall']:.0%} | {trained['facts_recalled']:.0%} | "
        f"{trained['general']}/{result['general_questions']} | {result['retention']:.0%} |",
    ]
    return "\n".join(lines)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--base", default="smollm2-135m-instruct", help="student: model reference, GGUF or HF folder")
    parser.add_argument("--facts", type=int, default=None, help="use the first N facts (default: all 20)")
    parser.add_argument("--general", type=int, default=None, help="use the first N general questions (default: all 30)")
    parser.add_argument("--set", action="append", default=[], metavar="KEY=JSON", help="training config override")
    parser.add_argument("--out", help="working folder (default: a temporary one)")
    parser.add_argument("--json", help="write the full result (with every answer) here")
    parser.add_argument("--time-limit-min", type=float, help="bound the training's wall time (minutes); the best "
                        "held-out step so far is kept")
    args = parser.parse_args()
    overrides = {}
    for pair in args.set:
        key, _, raw = pair.partition("=")
        try:
            overrides[key] = json.loads(raw)
        except json.JSONDecodeError:
            overrides[key] = raw
    with tempfile.TemporaryDirectory() as tmp:
        result = run(args.base, args.facts, overrides, Path(args.out or tmp), log=lambda line: print(line, flush=True),
                     n_general=args.general, time_limit_s=args.time_limit_min * 60 if args.time_limit_min else None)
    if args.json:
        Path(args.json).write_text(json.dumps(result, indent=2), encoding="utf-8")
    print(f"{result['facts']} facts, {result['training_samples']} training samples, {result['heldout_questions']} held-out "
          f"questions; training {result['train_seconds']:.0f} s; phases {json.dumps(result['phases'])}")
    print(render(result))
    return 0


if __name__ == "__main__":
    sys.exit(main())
