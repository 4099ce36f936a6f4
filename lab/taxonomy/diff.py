"""Which leaves changed between two revisions of a taxonomy repository, via the git CLI.

Changes are taken from the merge base of BASE and HEAD to HEAD (what a pull request adds), with
rename detection; without HEAD, to the working tree, untracked leaves included. `since_release`
compares two trees directly instead (what changed since a released commit) and speaks a release's
words. Revisions are checked before use, so a value like `--output=x` can never reach git as an
option. Git runs through lab.safegit (hardened config, clean environment, bounded time).
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Literal

from lab.safegit import run_git
from lab.taxonomy.leaf import TAXONOMY_ROOTS
from lab.taxonomy.paths import LEAF_NAME

GIT_TIMEOUT_S = 60
Status = Literal["added", "modified", "deleted", "renamed"]
STATUS = {"A": "added", "C": "added", "M": "modified", "T": "modified", "D": "deleted", "R": "renamed"}
DIFF_ARGS = ("diff", "--name-status", "-z", "--no-ext-diff", "--no-textconv", "--relative")
RELEASE_STATUS = {"added": "added", "modified": "modified", "deleted": "removed"}  # a release's words for a change


class DiffError(Exception):
    """git is missing, ROOT is not a repository, or a revision does not exist."""


@dataclass(frozen=True)
class LeafDiff:
    """One leaf that differs between two revisions, as git sees it (a release's `LeafDiff` is another thing)."""

    path: str  # root-relative path of the leaf (for deletions: where it was)
    status: Status
    old_path: str | None = None  # the previous path of a renamed leaf

    def to_dict(self) -> dict:
        return asdict(self)


def is_leaf(path: str) -> bool:
    parts = path.split("/")
    return len(parts) >= 2 and parts[0] in TAXONOMY_ROOTS and parts[-1] == LEAF_NAME


def _git(root: Path, *args: str) -> str:
    return run_git(args, root, timeout_s=GIT_TIMEOUT_S, error=DiffError)


def resolve(root: Path, revision: str) -> str:
    """The full commit SHA of a revision; DiffError if it is not one."""
    if not revision or revision.startswith("-"):
        raise DiffError(f"not a revision: {revision!r}")
    try:
        return _git(root, "rev-parse", "--verify", "--quiet", f"{revision}^{{commit}}").strip()
    except DiffError:
        raise DiffError(f"unknown revision {revision!r} in {root}") from None


def merge_base(root: Path, base: str, head: str | None = None) -> str:
    """The commit where HEAD's history left BASE's: the starting point of a PR's changes."""
    return _git(root, "merge-base", resolve(root, base), resolve(root, head or "HEAD")).strip()


def changed_leaves(root: Path | str, base: str, head: str | None = None) -> list[LeafDiff]:
    """Leaves added, modified, deleted or renamed from merge-base(BASE, HEAD) to HEAD (or the working tree)."""
    root = Path(root)
    start = merge_base(root, base, head)
    args = [*DIFF_ARGS, "-M", start]
    if head is not None:
        args.append(resolve(root, head))
    changes = _leaf_diffs(_git(root, *args).split("\0"))
    if head is None:
        untracked = _git(root, "ls-files", "--others", "--exclude-standard", "-z").split("\0")
        changes.extend(LeafDiff(p, "added") for p in untracked if is_leaf(p))
    return sorted(changes, key=lambda c: c.path)


def since_release(root: Path | str, since: str, head: str) -> list[tuple[str, str]]:
    """(path, added | modified | removed) of the leaves whose file differs between SINCE's tree and HEAD's
    (no merge base: what changed since a released commit), in a release's words; a moved leaf is its
    old path removed and its new path added."""
    root = Path(root)
    fields = _git(root, *DIFF_ARGS, "--no-renames", resolve(root, since), resolve(root, head)).split("\0")
    return [(c.path, RELEASE_STATUS[c.status]) for c in sorted(_leaf_diffs(fields), key=lambda c: c.path)]


def _leaf_diffs(fields: list[str]) -> list[LeafDiff]:
    """The leaves among the fields of `git diff --name-status -z`: status, path (and the new path of a rename or copy)."""
    changes: list[LeafDiff] = []
    i = 0
    while i < len(fields) - 1:
        code = fields[i][:1]
        if code in ("R", "C"):
            old, new = fields[i + 1], fields[i + 2]
            i += 3
            if code == "R" and is_leaf(old) and is_leaf(new):
                changes.append(LeafDiff(new, "renamed", old))
                continue
            if code == "R" and is_leaf(old):
                changes.append(LeafDiff(old, "deleted"))
            if is_leaf(new):
                changes.append(LeafDiff(new, "added"))
            continue
        path = fields[i + 1]
        i += 2
        if is_leaf(path) and code in STATUS:
            changes.append(LeafDiff(path, STATUS[code]))  # type: ignore[arg-type]
    return changes
