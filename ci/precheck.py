"""`python -m ci.precheck`: the current model answers the seed questions of one PR's changed leaves.

Reviewers use it to see whether a contribution teaches the model anything before it is merged. The
step checks the PR head out as data (`ci.checkout`: nothing from it is executed), finds and validates
the changed leaves as `ci.generate` does, and asks the model every seed question: closed-book for
knowledge, with the leaf's context for grounded skills (the prompts training uses, from
`lab.evaluate.items`). The model is the latest release when the repository releases to a target the
runner can read (`release.repo_id`, or ARBORIST_RELEASE_DIR), else the runner's ARBORIST_BASE_MODEL.
The report (`ci.precheck_report`) puts each answer beside the seed answer with its ROUGE-L.
"""

from __future__ import annotations

import argparse
import shutil
import sys
from pathlib import Path
from typing import Any

from ci.args import bounded_int, pr_step_parser
from ci.env import CiEnv
from ci.generate import base_config, read_changed
from ci.report import Reporter
from ci.step import run_step
from lab.evaluate.precheck import Answered

MAX_QUESTIONS = 500  # a hard ceiling whatever the repository config says
DEFAULT_QUESTIONS = 60


def build_parser() -> argparse.ArgumentParser:
    parser = pr_step_parser("python -m ci.precheck", __doc__.splitlines()[0])
    parser.add_argument("--max-questions", type=bounded_int(MAX_QUESTIONS), default=None,
                        help="the most seed questions to ask (default: precheck.max_questions in the repo config)")
    return parser



def current_model(config: Any, dest: Path) -> tuple[str, str]:
    """(model reference, what to call it): the latest release if one can be read, else ARBORIST_BASE_MODEL."""
    from ci.retrain import last_release, release_target, settings_from_environ

    settings = settings_from_environ()
    target = release_target(config, settings)
    record, local = last_release(target, dest) if target is not None else (None, None)
    if record and local:
        return local, f"release {record.get('tag', '?')}"
    base = settings.base_model
    return base, f"base model {Path(base).name if Path(base).is_absolute() else base}" if base else ""


def ask(model_ref: str, items: list, reporter: Reporter) -> list[str]:
    """The model's greedy answers, with progress per batch."""
    from lab.evaluate.model import answer_budget, generate_answers, load

    reporter.progress(f"loading the model for {len(items)} questions", 0.1)
    model, tokenizer, device = load(model_ref)
    limit = answer_budget(tokenizer, [i.reference for i in items])
    done = [0]

    def advance(n: int) -> None:
        done[0] += n
        reporter.progress(f"answered {done[0]} of {len(items)} seed questions", 0.1 + 0.85 * done[0] / len(items))

    return generate_answers(model, tokenizer, device, [i.messages for i in items], limit, advance=advance)


def run_precheck(args: argparse.Namespace, env: CiEnv, reporter: Reporter) -> int:
    """Check out `args.sha` as data, read the changed leaves, ask the model, report."""
    from ci.precheck_report import render_precheck, title
    from lab.evaluate.items import items_from_leaves
    from lab.evaluate.precheck import first_questions, score_answers
    from lab.taxonomy.leaf import leaf_from_yaml
    from lab.taxonomy.repoconfig import load_repo_config

    work = env.data_dir / "precheck" / f"job-{args.job_id}"
    shutil.rmtree(work, ignore_errors=True)
    tree = work / "tree"
    try:
        leaves = read_changed(args, env, tree, reporter, "This PR changes no `qna.yaml`: there is nothing to ask.")
        if isinstance(leaves, int):
            return leaves
        config, _ = load_repo_config(base_config(tree))
        items = items_from_leaves([leaf_from_yaml(p, (tree / p).read_bytes()) for p in leaves])
    finally:
        shutil.rmtree(tree, ignore_errors=True)  # the PR's files are no longer needed
    limit = args.max_questions or config.precheck.max_questions or DEFAULT_QUESTIONS
    items, not_asked = first_questions(items, min(limit, MAX_QUESTIONS))
    if not items:
        reporter.result("success", "no seed questions", "The changed leaves have no seed question with an answer.")
        return 0
    try:
        model_ref, model_name = current_model(config, work / "release")
        if not model_ref:
            return reporter.fail("no model to ask", "Set ARBORIST_BASE_MODEL on the runner, or release a model "
                                                    "(`release.repo_id` in `.github/arborist.yml`).")
        answered = score_answers(items, ask(model_ref, items, reporter))
    except Exception as exc:  # noqa: BLE001 - a model that cannot load or answer is reported, not a traceback
        return reporter.fail("the model could not answer", f"{type(exc).__name__}: {exc}")
    finally:
        shutil.rmtree(work / "release", ignore_errors=True)
    if env.judge:
        scored = judge_answers(env.judge, answered, reporter)
        if isinstance(scored, int):
            return scored
        answered = scored
    reporter.result("success", title(answered), render_precheck(answered, model_name, not_asked,
                                                                judge_name=env.judge or ""))
    return 0


def judge_answers(judge: str, answered: list[Answered], reporter: Reporter) -> list[Answered] | int:
    """ARBORIST_JUDGE's 1-10 and reason beside each ROUGE-L; the exit code after a reported failure."""
    from lab.evaluate.judge import judge as ask_judge
    from lab.evaluate.precheck import with_judgements
    from lab.generate.backends import close_backend, load_backend

    reporter.progress(f"the judge scores {len(answered)} answers", 0.96)
    try:
        backend = load_backend(judge)
    except Exception as exc:  # noqa: BLE001 - a judge that cannot load is the runner's setting, said plainly
        return reporter.fail("could not load the judge model (ARBORIST_JUDGE)", f"{type(exc).__name__}: {exc}")
    try:
        scores = ask_judge(backend, [(a.question, a.reference, a.answer) for a in answered])
    finally:
        close_backend(backend)
    return with_judgements(answered, scores)


def main(argv: list[str] | None = None) -> int:
    return run_step("precheck", build_parser().parse_args(argv), run_precheck)


if __name__ == "__main__":
    sys.exit(main())
