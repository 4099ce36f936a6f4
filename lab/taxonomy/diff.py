"""Which leaves changed between two revisions of a taxonomy repository, via the git CLI.

Changes are taken from the merge base of BASE and HEAD to HEAD (what a pull request adds), with
rename detection; without HEAD, to the working tree, untracked leaves included. Revisions are
checked before use, so a value like `--output=x` can never reach git as an option.
"""

from __future__ import annotations

import subprocess
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Literal

from lab.taxonomy.leaf import TAXONOMY_ROOTS
from lab.taxonomy.paths import LEAF_NAME

GIT_TIMEOUT_S = 60
Status = Literal["added", "modified", "deleted", "renamed"]
STATUS = {"A": "added", "C": "added", "M": "modified", "T": "modified", "D": "deleted", "R": "renamed"}


class DiffError(Exception):
    """git is missing, ROOT is not a repository, or a revision does not exist."""


@dataclass(frozen=True)
class LeafChange:
    path: str  # root-relative path of the leaf (for deletions: where it was)
    status: Status
    old_path: str | None = None  # the previous path of a renamed leaf

    def to_dict(self) -> dict:
        return asdict(self)


def is_leaf(path: str) -> bool:
    parts = path.split("/")
    return len(parts) >= 2 and parts[0] in TAXONOMY_ROOTS and parts[-1] == LEAF_NAME


def _git(root: Path, *args: str) -> str:
    try:
        result = subprocess.run(["git", "-C", str(root), *args], capture_output=True, timeout=GIT_TIMEOUT_S)
    except FileNotFoundError:
        raise DiffError("git is not installed (or not on PATH)") from None
    except subprocess.TimeoutExpired:
        raise DiffError(f"git {args[0]} took longer than {GIT_TIMEOUT_S} s") from None
    if result.returncode != 0:
        message = result.stderr.decode("utf-8", "replace").strip().splitlines()
        raise DiffError(f"git {args[0]} failed: {message[-1] if message else 'exit ' + str(result.returncode)}")
    return result.stdout.decode("utf-8", "surrogateescape")


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


def changed_leaves(root: Path | str, base: str, head: str | None = None) -> list[LeafChange]:
    """Leaves added, modified, deleted or renamed from merge-base(BASE, HEAD) to HEAD (or the working tree)."""
    root = Path(root)
    start = merge_base(root, base, head)
    args = ["diff", "--name-status", "-z", "-M", "--no-ext-diff", "--no-textconv", "--relative", start]
    if head is not None:
        args.append(resolve(root, head))
    fields = _git(root, *args).split("\0")
    changes: list[LeafChange] = []
    i = 0
    while i < len(fields) - 1:
        code = fields[i][:1]
        if code in ("R", "C"):
            old, new = fields[i + 1], fields[i + 2]
            i += 3
            if code == "R" and is_leaf(old) and is_leaf(new):
                changes.append(LeafChange(new, "renamed", old))
                continue
            if code == "R" and is_leaf(old):
                changes.append(LeafChange(old, "deleted"))
            if is_leaf(new):
                changes.append(LeafChange(new, "added"))
            continue
        path = fields[i + 1]
        i += 2
        if is_leaf(path) and code in STATUS:
            changes.append(LeafChange(path, STATUS[code]))  # type: ignore[arg-type]
    if head is None:
        untracked = _git(root, "ls-files", "--others", "--exclude-standard", "-z").split("\0")
        changes.extend(LeafChange(p, "added") for p in untracked if is_leaf(p))
    return sorted(changes, key=lambda c: c.path)
