"""`python -m ci.preview`: train a small LoRA adapter on one PR's data and show what it would teach the model.

Reviewers use it before a merge. The step reads the PR head as data (`ci.checkout`), validates its
changed leaves (as `ci.precheck` does), generates their data with the configured teacher through the
`/generate` cache (same seed, so a `/generate` of the same leaves and sample count is a cache hit),
keeps `preview.heldout_share` of each leaf's rows out before training (`lab.evaluate.preview`),
trains a LoRA adapter on the rest over the current model (the latest release, else
ARBORIST_BASE_MODEL), bounded by `preview.max_steps` and `preview.max_minutes`, and asks both models
the seed questions, the held-out questions and a fixed set of general questions. The report
(`ci.preview_report`) compares them with the release gate's statistics; the adapter is kept under
ARBORIST_DATA_DIR/preview/job-N/adapter, where `lab chat --adapter` loads it.
"""

from __future__ import annotations

import argparse
import json
import shutil
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from ci.args import bounded_int, pr_step_parser
from ci.env import CiEnv
from ci.preview_train import (
    MAX_SAMPLES,
    Bounds,
    bounds_from,
    keep_adapter,
    read_rows,
    steps_taken,
    train_adapter,
    write_training_data,
)
from ci.report import Reporter
from ci.step import run_step
from schemas.repo_config import RepoConfig

MAX_SEED_QUESTIONS = 60  # seed questions asked of each model, all leaves together
MAX_HELDOUT_QUESTIONS = 60
ANSWER_TOKENS = 96  # a seed or held-out answer, at most (tokens)
STATS_SEED = 0
REPORT_FILE = "report.json"  # the comment's figures and every answer, beside the adapter


def build_parser() -> argparse.ArgumentParser:
    parser = pr_step_parser("python -m ci.preview", __doc__.splitlines()[0])
    parser.add_argument("--samples", type=bounded_int(MAX_SAMPLES), default=None,
                        help="generated rows per leaf (default: preview.samples, else generate.samples)")
    return parser



def generate_data(tree: Path, leaves: list[str], teacher: str, samples: int, env: CiEnv, reporter: Reporter,
                  out: Path) -> Any:
    """The changed leaves' data in `out`, through the shared cache; the manifest, or a failure message."""
    from ci.generate import RETRAIN_SEED, _StepProgress, cache_dir
    from lab.generate import GenerateParams, generate_leaves, load_backend
    from lab.generate.backends import BackendError, close_backend
    from lab.generate.documents import DocsSettings
    from lab.generate.leaves import read_leaf
    from lab.models.resolve import TeacherNotFound

    reporter.progress(f"loading the teacher for {len(leaves)} leaves", 0.05)
    try:
        backend = load_backend(teacher)
    except (BackendError, TeacherNotFound) as exc:
        return f"could not load the teacher model: {exc}"
    try:
        return generate_leaves([read_leaf(tree / p, tree) for p in leaves], backend, out,
                               GenerateParams(samples=samples, seed=RETRAIN_SEED), cache_dir=cache_dir(env),
                               docs=DocsSettings.for_pull_requests(), progress=_StepProgress(reporter, len(leaves)))
    finally:
        close_backend(backend)


@dataclass
class Prepared:
    """What the PR gives the preview: the config, the bounds, the seed questions and the generated rows."""

    config: RepoConfig
    bounds: Bounds
    seed_items: list[Any]
    rows: list[dict[str, Any]]
    teacher: str


def prepare(args: argparse.Namespace, env: CiEnv, reporter: Reporter, tree: Path, work: Path) -> Prepared | int:
    """Check out, validate, read the seed questions and generate; the exit code after a reported end."""
    from ci.generate import base_config, read_changed
    from ci.retrain import settings_from_environ
    from lab.evaluate.items import items_from_leaves
    from lab.taxonomy.leaf import leaf_from_yaml
    from lab.taxonomy.repoconfig import load_repo_config

    leaves = read_changed(args, env, tree, reporter, "This PR changes no `qna.yaml`: there is nothing to preview.")
    if isinstance(leaves, int):
        return leaves
    config, _ = load_repo_config(base_config(tree))
    bounds = bounds_from(config, args.samples)
    teacher = str(config.generate.teacher or settings_from_environ().teacher)
    if not teacher:
        return reporter.fail("no teacher model configured",
                             "Set `generate.teacher` in `.github/arborist.yml` or ARBORIST_TEACHER on the runner.")
    items = items_from_leaves([leaf_from_yaml(p, (tree / p).read_bytes()) for p in leaves])
    manifest = generate_data(tree, leaves, teacher, bounds.samples, env, reporter, work / "generated")
    if isinstance(manifest, str):
        return reporter.fail("could not generate the data", manifest)
    rows = read_rows(work / "generated")
    if not rows:
        return reporter.fail("generation produced no data", "Every changed leaf ended without rows; see the job log.")
    return Prepared(config, bounds, items, rows, teacher)


def ask_both(model_ref: str, adapter: Path, seed_items: list[Any], held_items: list[Any], bounds: Bounds,
             reporter: Reporter) -> tuple[list[Any], Any]:
    """Both models answer every question; (the scored seed and held-out questions, the general retention)."""
    from lab.evaluate.adapter import answer_with_and_without
    from lab.evaluate.general import MAX_NEW_TOKENS, load_general, retention
    from lab.evaluate.model import answer_budget
    from lab.evaluate.preview import HELDOUT, SEED, score_pairs
    from lab.generate.output import conversation_start

    general = load_general(bounds.general_questions)
    asked = seed_items + held_items
    total, done = 2 * (len(asked) + len(general)), [0]

    def advance(n: int) -> None:
        done[0] += n
        reporter.progress(f"answered {done[0]} of {total} questions (base, then preview)", 0.75 + 0.24 * done[0] / total)

    reporter.progress(f"asking both models {len(asked)} questions and {len(general)} general ones", 0.75)
    general_prompts = [[*conversation_start(), {"role": "user", "content": q.question}] for q in general]

    def budget(tokenizer: Any) -> int:
        return answer_budget(tokenizer, [i.reference for i in asked], ANSWER_TOKENS)

    base, preview = answer_with_and_without(model_ref, adapter, [([i.messages for i in asked], budget),
                                                                 (general_prompts, MAX_NEW_TOKENS)], advance)
    sources = [SEED] * len(seed_items) + [HELDOUT] * len(held_items)
    scored = score_pairs(asked, sources, base[0], preview[0])
    return scored, retention(general, base[1], preview[1], bounds.min_effect, STATS_SEED)


def train_and_compare(prepared: Prepared, env: CiEnv, work: Path, reporter: Reporter) -> int:
    """Split, train over the current model, ask both models, report."""
    from ci.generate import data_link
    from ci.precheck import current_model
    from ci.preview_report import PreviewRun, render_preview, report_data
    from lab.evaluate.precheck import first_questions
    from lab.evaluate.preview import by_leaf, heldout_items, split_rows, summary_line
    from lab.train.data import write_messages

    bounds = prepared.bounds
    train_rows, held_rows = split_rows(prepared.rows, bounds.heldout_share)
    write_training_data(train_rows, work / "data")
    write_messages(work / "data" / "heldout_questions.jsonl", held_rows)  # kept beside the adapter, never trained on
    seed_items, _ = first_questions(prepared.seed_items, MAX_SEED_QUESTIONS)
    held_items, _ = first_questions(heldout_items(held_rows), MAX_HELDOUT_QUESTIONS)
    model_ref, model_name = current_model(prepared.config, work / "release")
    if not model_ref:
        return reporter.fail("no model to train over", "Set ARBORIST_BASE_MODEL on the runner, or release a model "
                                                       "(`release.repo_id` in `.github/arborist.yml`).")
    reporter.progress(f"training a LoRA adapter on {len(train_rows)} rows ({len(held_rows)} held out)", 0.35)
    try:
        adapter, summary = train_adapter(work / "data", model_ref, work / "train", bounds, reporter)
    except (ValueError, MemoryError) as exc:
        return reporter.fail("training failed", f"{type(exc).__name__}: {exc}")
    adapter = keep_adapter(adapter, work)
    shutil.rmtree(work / "train", ignore_errors=True)
    try:
        scored, kept = ask_both(model_ref, adapter, seed_items, held_items, bounds, reporter)
    finally:
        shutil.rmtree(work / "release", ignore_errors=True)
    leaves = by_leaf(scored, bounds.min_effect, STATS_SEED)
    run = PreviewRun(model=model_name, adapter=str(adapter), link=data_link(env, reporter.job_id, adapter),
                     chat_model=chat_model(prepared.config, model_ref, model_name),
                     train_rows=len(train_rows), held_rows=len(held_rows), steps=steps_taken(summary)[0],
                     timed_out=steps_taken(summary)[1],
                     seconds=float(summary.get("seconds", 0.0)), min_effect=bounds.min_effect)
    (work / REPORT_FILE).write_text(json.dumps(report_data(leaves, kept, run), indent=2, ensure_ascii=False))
    reporter.result("success", summary_line(leaves), render_preview(leaves, kept, run),
                    {"artefacts": run.link} if run.link.startswith("http") else {})
    return 0


def chat_model(config: RepoConfig, model_ref: str, model_name: str) -> str:
    """What `lab chat` is given as the model the adapter goes on: the base model, or the release it was trained over."""
    if not model_name.startswith("release "):
        return model_ref
    repo_id = config.release.repo_id
    return f"{repo_id} --release {model_name.split(' ', 1)[1]}" if repo_id else "RELEASE_FOLDER"


def run_preview(args: argparse.Namespace, env: CiEnv, reporter: Reporter) -> int:
    """The whole step: prepare (the PR's files are removed after), then train and compare."""
    work = env.data_dir / "preview" / f"job-{args.job_id}"
    shutil.rmtree(work, ignore_errors=True)
    tree = work / "tree"
    try:
        prepared = prepare(args, env, reporter, tree, work)
    finally:
        shutil.rmtree(tree, ignore_errors=True)  # the PR's files are no longer needed; the data stays
    if isinstance(prepared, int):
        return prepared
    return train_and_compare(prepared, env, work, reporter)


def main(argv: list[str] | None = None) -> int:
    return run_step("preview", build_parser().parse_args(argv), run_preview, crash_title="the preview failed")


if __name__ == "__main__":
    sys.exit(main())
