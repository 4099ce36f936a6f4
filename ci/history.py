"""The retrain's view of git: the commit checked out with its history, the PRs merged since the last
release (from merge and squash subjects) and the leaves each one changed last."""

from __future__ import annotations

import re
import shutil
from pathlib import Path

from ci.checkout import CheckoutError, checkout_as_data, clone_url
from ci.env import CiEnv
from lab.safegit import run_git
from lab.taxonomy.diff import since_release

MERGE_RE = re.compile(r"^Merge pull request #(\d+)\b")
SQUASH_RE = re.compile(r"\(#(\d+)\)\s*$")
MAX_HISTORY_COMMITS = 2000  # commits read when looking for the PRs of a run


def prs_from_subjects(subjects: list[str]) -> list[int]:
    """PR numbers named by merge ("Merge pull request #N ...") and squash ("... (#N)") subjects, in order."""
    found: list[int] = []
    for subject in subjects:
        match = MERGE_RE.match(subject) or SQUASH_RE.search(subject)
        if match and int(match.group(1)) not in found:
            found.append(int(match.group(1)))
    return found


def git(tree: Path, *args: str, token: str | None = None) -> str:
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
    git(tree, "fetch", "--quiet", "--no-tags", "--unshallow", url, sha, token=env.git_token)
    done.write_text(sha)


def leaf_prs(tree: Path, since: str | None, sha: str) -> tuple[list[int], dict[str, int]]:
    """PRs merged in (since, sha] on the first-parent line, and the PR that last touched each qna.yaml."""
    span = f"{since}..{sha}" if since and has_commit(tree, since) else sha
    lines = git(tree, "log", "--first-parent", f"--max-count={MAX_HISTORY_COMMITS}", "--format=%H%x00%s", span)
    commits = [line.split("\x00", 1) for line in lines.splitlines() if "\x00" in line]
    by_leaf: dict[str, int] = {}
    for commit, subject in reversed(commits):  # oldest first, so the newest PR wins
        prs = prs_from_subjects([subject])
        if not prs:
            continue
        changed = git(tree, "diff-tree", "--no-commit-id", "-r", "-m", "--first-parent", "--name-only", commit)
        for path in changed.splitlines():
            if path.endswith("/qna.yaml"):
                by_leaf[path] = prs[0]
    return prs_from_subjects([s for _, s in reversed(commits)]), by_leaf


def leaf_changes(tree: Path, since: str | None, sha: str, leaves: list[str]) -> list[tuple[str, str]]:
    """(path, added|modified|removed) of qna.yaml files since the last release; all leaves "added" before one."""
    if not since or not has_commit(tree, since):
        return [(path, "added") for path in leaves]
    return since_release(tree, since, sha)  # lab.taxonomy.diff's reading, in a release's words


def has_commit(tree: Path, sha: str) -> bool:
    """Whether `sha` is a commit of the checkout (a release's commit may be gone after a force-push)."""
    try:
        git(tree, "cat-file", "-e", f"{sha}^{{commit}}")
        return True
    except CheckoutError:
        return False


def git_show(tree: Path, rev: str, path: str) -> str | None:
    """A file's text at `rev`, None where it does not exist there."""
    try:
        return git(tree, "show", f"{rev}:{path}")
    except CheckoutError:
        return None
