"""`python -m ci.generate`: synthetic data for the changed leaves of one PR, at one commit, as data.

The step checks the PR head out as data (`ci.checkout`: no hooks, nothing executed), finds the
leaves changed since the merge base with the default branch, validates them (and refuses, with the
findings, when one is invalid), generates with the configured teacher, and reports a keep-rate table
and samples per leaf. The repository config is read from the default branch, never from the PR.
"""

from __future__ import annotations

import argparse
import shutil
import sys
from pathlib import Path
from typing import Any

from ci.args import bounded_int, pr_step_parser
from ci.checkout import CheckoutError, checkout_as_data, clone_url
from ci.env import CiEnv
from ci.report import Reporter
from ci.step import EXIT_FAILED, run_step
from lab.safegit import run_git
from schemas.repo_config import CONFIG_PATH

MAX_SAMPLES = 1000  # a hard ceiling whatever the repository config says
LEAF_NAME = "qna.yaml"


def build_parser() -> argparse.ArgumentParser:
    parser = pr_step_parser("python -m ci.generate", __doc__.splitlines()[0])
    parser.add_argument("--samples", type=bounded_int(MAX_SAMPLES), default=None,
                        help="samples per leaf (default: repo config)")
    return parser


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    return build_parser().parse_args(argv)



def fetch_base(tree: Path, repo: str, sha: str, env: CiEnv) -> str:
    """Deepen the head checkout and fetch the default branch; return the merge base commit."""
    url = clone_url(repo, env.git_url_template)
    run_git(["fetch", "--quiet", "--no-tags", "--unshallow", url, sha], tree, token=env.git_token, error=CheckoutError)
    run_git(["fetch", "--quiet", "--no-tags", url, "+HEAD:refs/arborist/base"], tree, token=env.git_token,
            error=CheckoutError)
    return run_git(["merge-base", sha, "refs/arborist/base"], tree, error=CheckoutError).strip()


def changed_leaves(tree: Path, base: str, sha: str) -> list[str]:
    """Leaves added or modified by the PR (three-dot diff from the merge base); deletions need no data."""
    from lab.generate.leaves import changed_leaf_files

    return [p.relative_to(tree).as_posix() for p in changed_leaf_files(tree, base, sha)]


def base_config(tree: Path) -> bytes | None:
    """The default branch's `.github/arborist.yml` (never the PR's), or None."""
    try:
        return run_git(["show", f"refs/arborist/base:{CONFIG_PATH}"], tree, error=CheckoutError).encode(
            "utf-8", "surrogateescape")
    except CheckoutError:
        return None


def pick_leaves(requested: list[str], changed: list[str]) -> list[str]:
    """`--leaf` narrows to the named leaves (or folders); anything not a changed leaf is ignored."""
    if not requested:
        return changed
    wanted = [r.strip("/") for r in requested]
    return [c for c in changed if any(c == w or c.startswith(w + "/") or c == f"{w}/{LEAF_NAME}" for w in wanted)]


def read_changed(args: argparse.Namespace, env: CiEnv, tree: Path, reporter: Reporter,
                 none_changed: str) -> list[str] | int:
    """The PR's changed leaves (those of `--leaf`), checked out as data into `tree` and valid; else the exit
    code after a reported end: a failure, or success with `none_changed` when the PR changes no leaf."""
    from lab.taxonomy import validate_paths
    from lab.taxonomy.render import to_text
    from lab.taxonomy.repoconfig import validation_config

    try:
        reporter.progress(f"checking out {args.sha[:12]}", 0.0)
        checkout_as_data(args.repo, args.sha, tree, token=env.git_token, url_template=env.git_url_template)
        base = fetch_base(tree, args.repo, args.sha, env)
        leaves = pick_leaves(args.leaf, changed_leaves(tree, base, args.sha))
    except CheckoutError as exc:
        return reporter.fail("could not read the pull request", str(exc))
    if not leaves:
        reporter.result("success", "no changed leaves", none_changed)
        return 0
    validation, _ = validation_config(base_config(tree))  # the bot's verdict: base severities, no local docs
    invalid = [r for r in validate_paths([tree / p for p in leaves], root=tree, config=validation) if not r.valid]
    if invalid:
        return reporter.fail(f"{len(invalid)} changed leaf file(s) are invalid",
                             "Fix these first (`lab validate` shows the same):\n\n```\n" + to_text(invalid) + "\n```")
    return leaves


def data_link(env: CiEnv, job_id: int, out: Path) -> str:
    """Where the full data is: the Actions run (artefact uploaded by the workflow), the bot, or a path."""
    if env.actions_run_url:
        return env.actions_run_url
    if env.artefact_url_template:
        return env.artefact_url_template.replace("{job_id}", str(job_id))
    return f"`{out}` on the worker"


RETRAIN_SEED = 0  # ci.retrain's seed: the same leaf, samples and teacher give the rows the maintainer saw (a cache hit)


def cache_dir(env: CiEnv) -> Path:
    """ARBORIST_CACHE_DIR when set, else beside the step's other data (shared by every job on a runner)."""
    return env.cache_dir or env.data_dir / "sdg-cache"


class _StepProgress:
    """Forwards per-leaf progress to the reporter; rows are reported only as leaves finish."""

    def __init__(self, reporter: Reporter, total_leaves: int) -> None:
        self.reporter, self.total, self.done = reporter, total_leaves, 0

    def leaf_started(self, leaf_id: str, total: int) -> None:
        self.reporter.progress(f"generating {leaf_id} ({self.done + 1}/{self.total})", self.done / self.total)

    def advance(self, n: int = 1) -> None:
        pass

    def leaf_finished(self, result: Any) -> None:
        self.done += 1
        self.reporter.progress(f"{result.leaf_id}: {result.rows} rows, {result.status}", self.done / self.total)


def run_generation(args: argparse.Namespace, env: CiEnv, reporter: Reporter) -> int:
    """Check out `args.sha` as data, find and validate the changed leaves, generate, report."""
    from lab.generate import GenerateParams
    from lab.generate.backends import BackendError, close_backend
    from lab.generate.documents import DocsSettings
    from lab.generate.fanout import generate_with, load_teacher
    from lab.generate.leaves import read_leaf
    from lab.generate.markdown import render_manifest
    from lab.models.resolve import TeacherNotFound
    from lab.taxonomy.repoconfig import load_repo_config

    work = env.data_dir / "generate" / f"job-{args.job_id}"
    shutil.rmtree(work, ignore_errors=True)
    tree = work / "tree"
    leaves = read_changed(args, env, tree, reporter, "This PR changes no `qna.yaml`, so there is nothing to generate.")
    if isinstance(leaves, int):
        return leaves
    config = load_repo_config(base_config(tree))[0].generate  # the base branch's, bounded; a bad key keeps its default
    samples = min(args.samples or config.samples, MAX_SAMPLES, config.max_samples)
    teacher = config.teacher or env.teacher or ""
    if not teacher:
        return reporter.fail("no teacher model configured",
                             f"Set `generate.teacher` in `{CONFIG_PATH}` or ARBORIST_TEACHER on the runner.")
    reporter.progress(f"loading teacher for {len(leaves)} leaves", 0.0)
    try:
        backend = load_teacher(teacher)  # several comma-separated URLs: one teacher on replicas
    except (BackendError, TeacherNotFound) as exc:
        return reporter.fail("could not load the teacher model", str(exc))
    out = work / "out"
    try:
        manifest = generate_with(backend, [read_leaf(tree / p, tree) for p in leaves], out,
                                 GenerateParams(samples=samples, seed=RETRAIN_SEED), cache_dir=cache_dir(env),
                                 docs=DocsSettings.for_pull_requests(),  # a PR never reads local documents
                                 progress=_StepProgress(reporter, len(leaves)))
    finally:
        close_backend(backend)
        shutil.rmtree(tree, ignore_errors=True)  # the PR's files are no longer needed; the data stays
    link = data_link(env, args.job_id, out)
    summary = render_manifest(manifest, out, link)
    failed = [r for r in manifest.leaves if r.status == "failed"]
    conclusion = "failure" if failed or manifest.rows == 0 else "success"
    title = f"{manifest.rows} synthetic rows for {len(leaves)} changed leaf" + ("" if len(leaves) == 1 else "s")
    links = {"artefacts": link} if link.startswith("http") else {}
    reporter.result(conclusion, title, summary, links)
    return 0 if conclusion == "success" else EXIT_FAILED


def main(argv: list[str] | None = None) -> int:
    return run_step("generate", parse_args(argv), run_generation)


if __name__ == "__main__":
    sys.exit(main())
