"""`python -m ci.retrain`: retrain the model on the whole taxonomy at one default-branch commit.

Checkout as data, validate every leaf (stop on errors), generate (cached per leaf), train (knowledge
then skills), evaluate against the last release, decide with the gate from `.github/arborist.yml`,
publish if it passes and a target is configured, and report: the job's check run, and a note on
every PR merged since the last release. All state lives under ARBORIST_DATA_DIR/retrain/<sha>, so a
run killed at any point continues where it stopped when the job is run again.
"""

from __future__ import annotations

import argparse
import fcntl
import json
import re
import shutil
import sys
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from ci.checkout import CheckoutError, checkout_as_data, clone_url
from ci.env import CiEnv, github_client
from ci.report import Reporter, start_step
from lab.safegit import run_git
from lab.taxonomy.diff import since_release

EXIT_FAILED = 1
EXIT_USAGE = 2
MERGE_RE = re.compile(r"^Merge pull request #(\d+)\b")
SQUASH_RE = re.compile(r"\(#(\d+)\)\s*$")
NOTE_MARKER = "<!-- arborist:retrain-note -->"
MAX_HISTORY_COMMITS = 2000  # commits read when looking for the PRs of a run
LOG_EVERY_S = 2.0  # training loss lines forwarded as progress at most this often
BASELINE_PATTERNS = ["*.json", "*.safetensors", "*.jinja", "*.txt", "*.model"]


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


def make_reporter(args: argparse.Namespace, env: CiEnv) -> Reporter:
    return Reporter(repo=args.repo, job_id=args.job_id, kind="retrain", check_run_id=args.check_run_id,
                    github=github_client(env))


def prs_from_subjects(subjects: list[str]) -> list[int]:
    """PR numbers named by merge ("Merge pull request #N ...") and squash ("... (#N)") subjects, in order."""
    found: list[int] = []
    for subject in subjects:
        match = MERGE_RE.match(subject) or SQUASH_RE.search(subject)
        if match and int(match.group(1)) not in found:
            found.append(int(match.group(1)))
    return found


@dataclass(frozen=True)
class Settings:
    """What the runner provides (environment), as opposed to what the repository configures."""

    base_model: str  # ARBORIST_BASE_MODEL: the student, a model dir or Hub repo id
    teacher: str  # generate.teacher in the repo config, else ARBORIST_TEACHER
    train_config: str | None  # ARBORIST_TRAIN_CONFIG: YAML/JSON overrides of lab.train's TrainConfig
    release_dir: str | None  # ARBORIST_RELEASE_DIR: publish into a directory instead of (or without) the Hub
    hf_endpoint: str | None  # HF_ENDPOINT
    hf_token: str | None  # HF_TOKEN; never printed


def _git(tree: Path, *args: str, token: str | None = None) -> str:
    """git on the retrain's own checkout: lab.safegit's hardened defaults, the token masked in errors."""
    return run_git(args, tree, token=token, options=("-c", "safe.directory=*"), error=CheckoutError)


def checkout(tree: Path, repo: str, sha: str, env: CiEnv) -> None:
    """The commit with its history (for the PR list); reused when a killed run checked it out already."""
    done = tree.parent / "checkout.done"
    if done.is_file():
        return
    shutil.rmtree(tree, ignore_errors=True)
    checkout_as_data(repo, sha, tree, token=env.git_token, url_template=env.git_url_template)
    url = clone_url(repo, env.git_url_template)
    _git(tree, "fetch", "--quiet", "--no-tags", "--unshallow", url, sha, token=env.git_token)
    done.write_text(sha)


def leaf_prs(tree: Path, since: str | None, sha: str) -> tuple[list[int], dict[str, int]]:
    """PRs merged in (since, sha] on the first-parent line, and the PR that last touched each qna.yaml."""
    span = f"{since}..{sha}" if since and _has_commit(tree, since) else sha
    lines = _git(tree, "log", "--first-parent", f"--max-count={MAX_HISTORY_COMMITS}", "--format=%H%x00%s", span)
    commits = [line.split("\x00", 1) for line in lines.splitlines() if "\x00" in line]
    by_leaf: dict[str, int] = {}
    for commit, subject in reversed(commits):  # oldest first, so the newest PR wins
        prs = prs_from_subjects([subject])
        if not prs:
            continue
        changed = _git(tree, "diff-tree", "--no-commit-id", "-r", "-m", "--first-parent", "--name-only", commit)
        for path in changed.splitlines():
            if path.endswith("/qna.yaml"):
                by_leaf[path] = prs[0]
    return prs_from_subjects([s for _, s in reversed(commits)]), by_leaf


def leaf_changes(tree: Path, since: str | None, sha: str, leaves: list[str]) -> list[tuple[str, str]]:
    """(path, added|modified|removed) of qna.yaml files since the last release; all leaves "added" before one."""
    if not since or not _has_commit(tree, since):
        return [(path, "added") for path in leaves]
    return since_release(tree, since, sha)  # lab.taxonomy.diff's reading, in a release's words


def _has_commit(tree: Path, sha: str) -> bool:
    try:
        _git(tree, "cat-file", "-e", f"{sha}^{{commit}}")
        return True
    except CheckoutError:
        return False


def repo_config(tree: Path) -> tuple[Any, list[str]]:
    from lab.taxonomy.repoconfig import CONFIG_PATH, read_repo_config

    return read_repo_config(tree / CONFIG_PATH)  # bounded read, bounded parse


def release_target(config: Any, settings: Settings) -> Any:
    from lab.publish.targets import DirectoryTarget, HubTarget

    if config.release.repo_id:
        from huggingface_hub import HfApi

        api = HfApi(endpoint=settings.hf_endpoint, token=settings.hf_token)
        return HubTarget(config.release.repo_id, api, private=config.release.private)
    if settings.release_dir:
        return DirectoryTarget(settings.release_dir)
    return None


def last_release(target: Any, dest: Path) -> tuple[dict[str, Any] | None, str | None]:
    """The previous release's record and a local copy of its model, if there is one."""
    if target is None:
        return None, None
    state = target.state()
    if not state.head or not state.record:
        return None, None
    if hasattr(target, "api"):
        local = target.api.snapshot_download(target.repo_id, revision=state.head, allow_patterns=BASELINE_PATTERNS,
                                             local_dir=str(dest))
        return state.record, str(local)
    folder = Path(str(target.path)) / "releases" / state.head
    return state.record, str(folder) if (folder / "config.json").is_file() else None


def _attributions(tree: Path, leaves: list[str]) -> dict[str, str]:
    out = {}
    for leaf in leaves:
        path = tree / leaf.rsplit("/", 1)[0] / "attribution.txt"
        if path.is_file() and not path.is_symlink():
            out[leaf] = path.read_text(encoding="utf-8", errors="replace")[:4000]
    return out


def previous_taxonomy_sha(config: Any, settings: Settings) -> str | None:
    """The taxonomy commit of the last release (None before the first one, or without a target)."""
    target = release_target(config, settings)
    state = target.state() if target is not None else None
    return (state.record or {}).get("taxonomy_sha") if state is not None and state.head else None


def apply_approvals(tree: Path, args: argparse.Namespace, config: Any, settings: Settings) -> list[Any]:
    """With retrain.require_approval, hold back the leaves of unapproved PRs (ci.approval); else nothing."""
    from ci.approval import hold_back, parse_approved
    from lab.taxonomy.discover import find_leaves

    if not config.retrain.require_approval:
        return []
    since = previous_taxonomy_sha(config, settings)
    _, by_leaf = leaf_prs(tree, since, args.sha)

    def show(rev: str, path: str) -> str | None:
        try:
            return _git(tree, "show", f"{rev}:{path}")
        except CheckoutError:
            return None

    changes = leaf_changes(tree, since, args.sha, find_leaves(tree))
    if not since or not _has_commit(tree, since):  # before the first release, every leaf of the commit counts
        at_sha = {*find_leaves(tree), *(p for p in by_leaf if show(args.sha, p) is not None)}  # a rerun removed some
        changes = [(p, "added") for p in sorted(at_sha)]
    return hold_back(tree, args.sha, since, changes, by_leaf, parse_approved(args.approved), show)


def render_summary(report: dict[str, Any], gate: dict[str, Any], release: dict[str, Any] | None, prs: list[int],
                   baseline_name: str) -> str:
    rouge = report["metrics"]["rouge_l"]
    lines = [f"**Gate: {gate['decision'].upper()}** — {gate['reason']}", "",
             f"ROUGE-L on {rouge['n']} seed questions: **{rouge['value']:.3f}** "
             f"(95% CI {rouge['ci'][0]:.3f}..{rouge['ci'][1]:.3f}); baseline ({baseline_name}): {rouge.get('baseline', 0):.3f}."]
    if "delta" in rouge:
        d = rouge["delta"]
        lines.append(f"Change: {d['mean']:+.3f} (95% CI {d['ci'][0]:+.3f}..{d['ci'][1]:+.3f}) → {d['verdict']}.")
    if release:
        lines.append(f"Release: [{release['tag']}]({release['url']})" + (" (already released)" if release["skipped"] else ""))
    lines.append("PRs in this run: " + (", ".join(f"#{n}" for n in prs) if prs else "none found in the history"))
    return "\n".join(lines)


def post_notes(github: Any, repo: str, prs: list[int], body: str) -> list[int]:
    """One note per PR, created once (a rerun finds its marker and edits it)."""
    posted = []
    for number in prs:
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


def settings_from_environ(environ: dict[str, str] | None = None) -> Settings:
    """The runner's settings, read through CiEnv (the one reader of a step's environment)."""
    env = CiEnv.from_environ(environ)
    return Settings(base_model=env.base_model, teacher=env.teacher or "", train_config=env.train_config,
                    release_dir=env.release_dir, hf_endpoint=env.hf_endpoint, hf_token=env.hf_token)


def run_retrain(args: argparse.Namespace, env: CiEnv, reporter: Reporter, settings: Settings | None = None,
                notes_client: Any = None) -> int:
    """The whole pipeline; returns the exit code (0: trained, evaluated and gated, published if passing)."""
    from ci.generate import RETRAIN_SEED, cache_dir
    from lab.evaluate.runner import EvalOptions, evaluate, write_report
    from lab.generate import GenerateParams, generate_leaves, load_backend
    from lab.generate.backends import close_backend
    from lab.generate.leaves import read_leaf
    from lab.taxonomy import validate_paths
    from lab.taxonomy.discover import find_leaves
    from lab.taxonomy.render import to_text
    from lab.train.config import TrainConfig, load_config
    from lab.train.trainer import RunOptions, train

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
    held_paths = {h.path for h in held}
    leaves = find_leaves(tree)
    reporter.progress(f"validating {len(leaves)} leaves", 0.03)
    invalid = [r for r in validate_paths([tree / p for p in leaves], root=tree) if not r.valid]
    if invalid:
        return reporter.fail(f"{len(invalid)} leaf file(s) are invalid; nothing was trained",
                             "Fix these first (`lab validate` shows the same):\n\n```\n" + to_text(invalid) + "\n```")
    if not leaves:
        return reporter.fail("the taxonomy has no leaves", "There is nothing to train on.")
    teacher = str(config.generate.teacher or settings.teacher)
    if not teacher or not settings.base_model:
        return reporter.fail("retraining is not configured", "Set the teacher (`generate.teacher` or ARBORIST_TEACHER) "
                             "and the student (ARBORIST_BASE_MODEL) on the runner.")
    data = work / "data"
    backend = load_backend(teacher)
    try:
        done = [0]

        class Progress:
            def leaf_started(self, leaf_id: str, total: int) -> None:
                reporter.progress(f"generating {leaf_id} ({done[0] + 1}/{len(leaves)})", 0.05 + 0.3 * done[0] / len(leaves))

            def advance(self, n: int = 1) -> None:
                pass

            def leaf_finished(self, result: Any) -> None:
                done[0] += 1

        manifest = generate_leaves([read_leaf(tree / p, tree) for p in leaves], backend, data,
                                   GenerateParams(samples=config.generate.samples, seed=RETRAIN_SEED),
                                   cache_dir=cache_dir(env), progress=Progress())
    finally:
        close_backend(backend)
    if manifest.rows == 0:
        return reporter.fail("generation produced no data", "Every leaf ended without rows; see the job log.")
    train_config = load_config(settings.train_config, TrainConfig(heldout_share=0.1))
    train_out = work / "train"
    last_line = [0.0]

    def log(line: str) -> None:
        print(line, file=sys.stderr, flush=True)
        if time.monotonic() - last_line[0] >= LOG_EVERY_S:
            last_line[0] = time.monotonic()
            reporter.progress(f"training: {line}", 0.4)

    resume = (train_out / "run.json").is_file()
    reporter.progress("training" + (" (resuming)" if resume else ""), 0.35)
    try:
        summary = train(data, settings.base_model, train_out, train_config, RunOptions(resume=resume, progress=False, log=log))
    except ValueError as exc:
        if not resume or "different" not in str(exc):
            return reporter.fail("training failed", str(exc))
        shutil.rmtree(train_out)  # the data changed under a killed run: start over rather than mix
        summary = train(data, settings.base_model, train_out, train_config, RunOptions(progress=False, log=log))
    except MemoryError as exc:
        return reporter.fail("training does not fit on this runner", str(exc))
    target = release_target(config, settings)
    reporter.progress("evaluating against the last release", 0.8)
    try:
        record, baseline = last_release(target, work / "baseline")
    except Exception as exc:  # noqa: BLE001 - an unreachable target must not hide the evaluation
        return reporter.fail("could not read the last release", str(exc))
    baseline_name = f"release {record.get('tag')}" if record and baseline else "the base model"
    options = EvalOptions(min_effect=config.retrain.gate.min_effect, allow_regression=config.retrain.gate.allow_regression,
                          heldout=str(train_out / "heldout_msgs.jsonl"), progress=False)
    report = evaluate(summary["final"], tree, baseline or settings.base_model, options, log=lambda s: None)
    report["baseline_kind"] = baseline_name
    write_report(report, work / "report.json")
    gate = report["gate"]
    prs, by_leaf = leaf_prs(tree, (record or {}).get("taxonomy_sha"), args.sha)
    release = None
    if gate["passed"] and target is not None:
        from lab.publish.publisher import publish_release
        from lab.publish.release import LeafChange, PublishError, ReleaseInfo

        reporter.progress(f"publishing to {target.name()}", 0.9)
        info = ReleaseInfo(
            taxonomy_repo=args.repo, taxonomy_sha=args.sha, previous_taxonomy_sha=(record or {}).get("taxonomy_sha"),
            leaves=[LeafChange(p, status, by_leaf.get(p), f"https://github.com/{args.repo}/pull/{by_leaf[p]}" if p in by_leaf else "")
                    for p, status in leaf_changes(tree, (record or {}).get("taxonomy_sha"), args.sha, leaves)
                    if p not in held_paths],
            data_counts={name: p["samples"] for name, p in summary["phases"].items()},
            generation_params={"teacher": teacher, "samples": config.generate.samples},
            training_params=summary["config"], evaluation=report, attributions=_attributions(tree, leaves),
            base_model=settings.base_model, license=config.release.license, tag_format=config.release.tag_format,
            data_dir=str(data))
        try:
            published = publish_release(summary["final"], target, info)
        except PublishError as exc:
            return reporter.fail("publishing failed", str(exc))
        release = published.to_dict()
        if notes_client is not None:
            from ci.announce import announce_release

            announced = announce_release(notes_client, args.repo, info, published)
            release["announced"] = sorted(announced.commented + announced.already_commented)
    body = render_summary(report, gate, release, prs, baseline_name)
    if held:
        from ci.approval import render_held

        body += "\n\n" + render_held(held)
    if target is None:
        body += "\n\nPublishing is not configured (`release.repo_id` or ARBORIST_RELEASE_DIR): nothing was released."
    if config_problems:
        body += "\n\nConfig problems (defaults used): " + "; ".join(config_problems)
    note = f"{NOTE_MARKER}\n### Retrain at `{args.sha[:12]}`\n\n{body}"
    unannounced = [n for n in prs if n not in (release or {}).get("announced", [])]
    noted = post_notes(notes_client, args.repo, unannounced, note) if notes_client is not None and unannounced else []
    (work / "result.json").write_text(json.dumps({"gate": gate, "release": release, "prs": prs, "noted": noted,
                                                  "note": note}, indent=2))
    links = {"release": release["url"]} if release and release["url"].startswith("http") else {}
    title = (f"released {release['tag']}" if release else "gate passed, not released" if gate["passed"]
             else "gate blocked the release")
    reporter.result("success" if gate["passed"] else "failure", title, body, links)
    return 0 if gate["passed"] else EXIT_FAILED


def notes_client(env: CiEnv, reporter: Reporter) -> Any:
    """Who writes the PR notes: the reporter's client, else one from a token on the runner, else nobody
    (the notes are then only in result.json for whoever relays them)."""
    return reporter.github or github_client(env)


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    started = start_step(lambda env: make_reporter(args, env))
    if started is None:
        return EXIT_USAGE
    env, reporter = started
    work = env.data_dir / "retrain" / args.sha
    work.mkdir(parents=True, exist_ok=True)
    with open(work / "lock", "w") as lock:
        try:  # a job claimed again while its first process still runs must not share the folder
            fcntl.flock(lock, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except OSError:
            return reporter.fail("another retrain of this commit is running", f"`{work}` is locked by a live process.")
        try:
            return run_retrain(args, env, reporter, notes_client=notes_client(env, reporter))
        except Exception as exc:  # noqa: BLE001 - report what broke instead of dying without a result
            return reporter.fail("retraining failed", f"{type(exc).__name__}: {exc}")


if __name__ == "__main__":
    sys.exit(main())
