"""`python -m ci.retrain`: retrain the model on the whole taxonomy at one default-branch commit.

A thin adapter for a runner: check the commit out as data (history included, for the PR list), read
`.github/arborist.yml` and the runner's settings, hold back unapproved leaves, then call the pipeline
(`lab.pipeline.retrain`: validate, generate, train, evaluate, gate, publish) and report: the job's
check run, and a note on every PR merged since the last release saying what its leaves did. All state
lives under ARBORIST_DATA_DIR/retrain/<sha>, so a run killed at any point continues where it stopped.
"""

from __future__ import annotations

import argparse
import fcntl
import json
import sys
import time
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

from ci.checkout import CheckoutError
from ci.env import CiEnv, github_client
from ci.history import checkout, git_show, has_commit, leaf_changes, leaf_prs, prs_from_subjects
from ci.report import Reporter
from ci.step import EXIT_FAILED, run_step
from lab.pipeline.notes import NOTE_MARKER, note_for, pr_leaves, render_summary
from lab.pipeline.results import RetrainFailed, RetrainResult
from lab.pipeline.retrain import History, RetrainRequest, last_release, retrain
from lab.publish.release import ReleaseInfo, ReleaseResult

# re-exported: NOTE_MARKER and last_release (lab.pipeline), checkout and prs_from_subjects (ci.history)
__all__ = ["NOTE_MARKER", "checkout", "last_release", "main", "prs_from_subjects", "run_retrain"]

LOG_EVERY_S = 2.0  # training loss lines forwarded as progress at most this often


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="python -m ci.retrain", description=__doc__.splitlines()[0])
    parser.add_argument("--repo", required=True, help="the taxonomy repository, owner/name")
    parser.add_argument("--sha", required=True, help="the default-branch commit to train on (full SHA)")
    parser.add_argument("--job-id", type=int, required=True, help="the Arborist job id")
    parser.add_argument("--check-run-id", type=int, default=None, help="the job's check run")
    parser.add_argument("--approved", default=None, metavar="N,N,...",
                        help="PRs a maintainer approved with /approve (read when retrain.require_approval is set)")
    return parser


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    return build_parser().parse_args(argv)



@dataclass(frozen=True)
class RunnerSettings:
    """What the runner provides (environment), as opposed to what the repository configures."""

    base_model: str  # ARBORIST_BASE_MODEL: the student, a model dir or Hub repo id
    teacher: str  # generate.teacher in the repo config, else ARBORIST_TEACHER
    train_config: str | None  # ARBORIST_TRAIN_CONFIG: YAML/JSON overrides of lab.train's TrainConfig
    release_dir: str | None  # ARBORIST_RELEASE_DIR: publish into a directory instead of (or without) the Hub
    hf_endpoint: str | None  # HF_ENDPOINT
    hf_token: str | None  # HF_TOKEN; never printed


def repo_config(tree: Path) -> tuple[Any, list[str]]:
    from lab.taxonomy.repoconfig import CONFIG_PATH, read_repo_config

    return read_repo_config(tree / CONFIG_PATH)  # bounded read, bounded parse


def release_target(config: Any, settings: RunnerSettings) -> Any:
    from lab.publish.targets import DirectoryTarget, HubTarget

    if config.release.repo_id:
        from huggingface_hub import HfApi

        api = HfApi(endpoint=settings.hf_endpoint, token=settings.hf_token)
        return HubTarget(config.release.repo_id, api, private=config.release.private)
    if settings.release_dir:
        return DirectoryTarget(settings.release_dir)
    return None


def previous_taxonomy_sha(config: Any, settings: RunnerSettings) -> str | None:
    """The taxonomy commit of the last release (None before the first one, or without a target)."""
    target = release_target(config, settings)
    state = target.state() if target is not None else None
    return (state.record or {}).get("taxonomy_sha") if state is not None and state.head else None


def apply_approvals(tree: Path, args: argparse.Namespace, config: Any, settings: RunnerSettings) -> list[Any]:
    """With retrain.require_approval, hold back the leaves of unapproved PRs (ci.approval); else nothing."""
    from ci.approval import hold_back, parse_approved
    from lab.taxonomy.discover import find_leaves

    if not config.retrain.require_approval:
        return []
    since = previous_taxonomy_sha(config, settings)
    _, by_leaf = leaf_prs(tree, since, args.sha)

    def show(rev: str, path: str) -> str | None:
        return git_show(tree, rev, path)

    changes = leaf_changes(tree, since, args.sha, find_leaves(tree))
    if not since or not has_commit(tree, since):  # before the first release, every leaf of the commit counts
        at_sha = {*find_leaves(tree), *(p for p in by_leaf if show(args.sha, p) is not None)}  # a rerun removed some
        changes = [(p, "added") for p in sorted(at_sha)]
    return hold_back(tree, args.sha, since, changes, by_leaf, parse_approved(args.approved), show)


def post_notes(github: Any, repo: str, bodies: dict[int, str]) -> list[int]:
    """One note per PR (PR number -> its text), created once (a rerun finds its marker and edits it)."""
    posted = []
    for number, body in bodies.items():
        try:
            mine = next((c for c in github.list_comments(repo, number) if NOTE_MARKER in c.body), None)
            if mine:
                github.edit_comment(repo, mine.id, body)
            else:
                github.create_comment(repo, number, body)
            posted.append(number)
        except Exception as exc:  # noqa: BLE001 - a note that fails must not fail the release
            print(f"warning: note on #{number} failed: {type(exc).__name__}", file=sys.stderr)
    return posted


def settings_from_environ(environ: dict[str, str] | None = None) -> RunnerSettings:
    """The runner's settings, read through CiEnv (the one reader of a step's environment)."""
    env = CiEnv.from_environ(environ)
    return RunnerSettings(base_model=env.base_model, teacher=env.teacher or "", train_config=env.train_config,
                    release_dir=env.release_dir, hf_endpoint=env.hf_endpoint, hf_token=env.hf_token)


class RunnerEdges:
    """The pipeline's edges on a runner: progress as step lines, training lines on stderr (and every
    LOG_EVERY_S as progress), the PR history from git, and the release announced on each PR."""

    def __init__(self, reporter: Reporter, tree: Path, sha: str, repo: str, notes: Any) -> None:
        self.reporter, self.tree, self.sha, self.repo, self.notes = reporter, tree, sha, repo, notes
        self.last_line = 0.0

    def progress(self, message: str, fraction: float) -> None:
        self.reporter.progress(message, fraction)

    def log(self, line: str) -> None:
        print(line, file=sys.stderr, flush=True)
        if time.monotonic() - self.last_line >= LOG_EVERY_S:
            self.last_line = time.monotonic()
            self.reporter.progress(f"training: {line}", 0.4)

    def history(self, since: str | None) -> History:
        from lab.taxonomy.discover import find_leaves

        prs, by_leaf = leaf_prs(self.tree, since, self.sha)
        changes = leaf_changes(self.tree, since, self.sha, find_leaves(self.tree))
        return History(tuple(prs), by_leaf, tuple(changes))

    def announce(self, info: ReleaseInfo, result: ReleaseResult) -> tuple[int, ...] | None:
        if self.notes is None:
            return None
        from ci.announce import announce_release

        announced = announce_release(self.notes, self.repo, info, result)
        return tuple(announced.commented + announced.already_commented)


def build_request(args: argparse.Namespace, env: CiEnv, settings: RunnerSettings, config: Any, tree: Path,
                  held_paths: set[str]) -> RetrainRequest:
    """What the pipeline needs, from the arguments, the runner's settings and the repository config."""
    from ci.generate import RETRAIN_SEED, cache_dir
    from lab.train.config import TrainConfig, load_config

    return RetrainRequest(
        repo=args.repo, sha=args.sha, tree=tree, work=tree.parent, base_model=settings.base_model,
        teacher=str(config.generate.teacher or settings.teacher), samples=config.generate.samples, seed=RETRAIN_SEED,
        train_config=load_config(settings.train_config, TrainConfig(heldout_share=0.1)),
        min_effect=config.retrain.gate.min_effect, allow_regression=config.retrain.gate.allow_regression,
        license=config.release.license, tag_format=config.release.tag_format, cache_dir=cache_dir(env),
        held_paths=frozenset(held_paths))


def run_retrain(args: argparse.Namespace, env: CiEnv, reporter: Reporter, settings: RunnerSettings | None = None,
                notes_client: Any = None) -> int:
    """Check out, hold back unapproved leaves, run the pipeline, report; the exit code (0: gate passed)."""
    settings = settings or settings_from_environ()
    work = env.data_dir / "retrain" / args.sha
    tree = work / "tree"
    work.mkdir(parents=True, exist_ok=True)
    try:
        reporter.progress(f"checking out {args.sha[:12]}", 0.01)
        checkout(tree, args.repo, args.sha, env)
    except CheckoutError as exc:
        return reporter.fail("could not check out the taxonomy", str(exc))
    config, config_problems = repo_config(tree)
    try:
        held = apply_approvals(tree, args, config, settings)
    except Exception as exc:  # noqa: BLE001 - an unreadable target or history: say so, train nothing unapproved
        return reporter.fail("could not check the approvals", f"{type(exc).__name__}: {exc}")
    request = build_request(args, env, settings, config, tree, {h.path for h in held})
    edges = RunnerEdges(reporter, tree, args.sha, args.repo, notes_client)
    target = release_target(config, settings)
    try:
        result = retrain(request, target, edges)
    except RetrainFailed as exc:
        return reporter.fail(exc.title, exc.detail)
    extra = []
    if held:
        from ci.approval import render_held

        extra.append(render_held(held))
    if target is None:
        extra.append("Publishing is not configured (`release.repo_id` or ARBORIST_RELEASE_DIR): nothing was released.")
    if config_problems:
        extra.append("Config problems (defaults used): " + "; ".join(config_problems))
    return report_result(args, reporter, result, extra, notes_client, request)


def report_result(args: argparse.Namespace, reporter: Reporter, result: RetrainResult, extra: list[str],
                  notes: Any, request: RetrainRequest) -> int:
    """Note each PR not told by a release (with what its leaves did), write result.json, report the step."""
    body = "\n\n".join([render_summary(result), *extra])
    note = f"{NOTE_MARKER}\n### Retrain at `{args.sha[:12]}`\n\n{body}"
    told = set(result.release.announced or ()) if result.release else set()
    unannounced = [n for n in result.prs if n not in told]
    of_leaf = {p: n for p, n in result.pr_of_leaf.items() if p not in request.held_paths}
    bodies = {n: note_for(note, result, pr_leaves(of_leaf, n)) for n in unannounced}
    noted = post_notes(notes, args.repo, bodies) if notes is not None and bodies else []
    result = replace(result, noted=tuple(noted), note=note)
    (request.work / "result.json").write_text(json.dumps(result.to_dict(), indent=2))
    release = result.release
    links = {"release": release.url} if release and release.url.startswith("http") else {}
    reporter.result("success" if result.passed else "failure", result.title(), body, links)
    return 0 if result.passed else EXIT_FAILED


def notes_client(env: CiEnv, reporter: Reporter) -> Any:
    """Who writes the PR notes: the reporter's client, else one from a token on the runner, else nobody
    (the notes are then only in result.json for whoever relays them)."""
    return reporter.github or github_client(env)


def run_locked(args: argparse.Namespace, env: CiEnv, reporter: Reporter) -> int:
    """run_retrain holding the commit's folder: a second process for the same commit fails at once, never shares it."""
    work = env.data_dir / "retrain" / args.sha
    work.mkdir(parents=True, exist_ok=True)
    with open(work / "lock", "w") as lock:
        try:
            fcntl.flock(lock, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except OSError:
            return reporter.fail("another retrain of this commit is running", f"`{work}` is locked by a live process.")
        return run_retrain(args, env, reporter, notes_client=notes_client(env, reporter))


def main(argv: list[str] | None = None) -> int:
    return run_step("retrain", parse_args(argv), run_locked, crash_title="retraining failed")


if __name__ == "__main__":
    sys.exit(main())
