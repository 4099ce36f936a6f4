"""`retrain.require_approval`: a leaf a PR changed enters the retrain only when a maintainer approved that PR.

The bot records `/approve` and hands the retrain the approved PR numbers (`--approved`). Before
anything is validated or generated, each leaf changed since the last release by an unapproved PR is
held back in the checked-out tree: a modified leaf goes back to its released version, a new leaf is
left out. A leaf changed by a commit that names no PR (a maintainer's own push) is kept. Applying
it again with more approvals restores the approved leaves, so a rerun of the same commit is right.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

GitShow = Callable[[str, str], "str | None"]  # (commit, path) -> the file's text at that commit, None if absent


@dataclass(frozen=True)
class HeldBack:
    path: str
    pr: int
    kept_previous: bool  # True: the released version stays; False: a new leaf, left out

    def line(self) -> str:
        what = "the released version is kept" if self.kept_previous else "a new leaf, left out"
        return f"- `{self.path}` from #{self.pr}: {what}"


def parse_approved(text: str | None) -> set[int]:
    """`--approved 7,9,12` as a set; anything that is not a PR number is ignored."""
    return {int(part) for part in (text or "").split(",") if part.strip().isdigit()}


def unapproved(changes: list[tuple[str, str]], by_leaf: dict[str, int], approved: set[int]) -> list[tuple[str, int, str]]:
    """(path, PR, added|modified) for every leaf changed by a PR that is not approved; removals need none."""
    out = []
    for path, status in changes:
        pr = by_leaf.get(path)
        if status != "removed" and pr is not None and pr not in approved:
            out.append((path, pr, status))
    return out


def hold_back(tree: Path, sha: str, since: str | None, changes: list[tuple[str, str]], by_leaf: dict[str, int],
              approved: set[int], git_show: GitShow) -> list[HeldBack]:
    """Make the tree hold only approved changes; returns what was held back."""
    held_paths = {path: (pr, status) for path, pr, status in unapproved(changes, by_leaf, approved)}
    held = []
    for path, status in changes:
        if status == "removed" or ".." in path.split("/") or path.startswith("/"):
            continue
        target = tree / path
        if path not in held_paths:
            text = git_show(sha, path)  # approved (or no PR): the commit's own version, also after a rerun
        else:
            pr, _ = held_paths[path]
            text = git_show(since, path) if since and status == "modified" else None
            held.append(HeldBack(path, pr, text is not None))
        if text is None:
            target.unlink(missing_ok=True)
        else:
            target.parent.mkdir(parents=True, exist_ok=True)
            target.write_text(text, encoding="utf-8")
    return held


def render_held(held: list[HeldBack]) -> str:
    """The report's paragraph: which leaves waited for an `/approve`, and what was trained instead."""
    if not held:
        return ""
    return ("Held back for want of a maintainer's `/approve` on their pull request "
            "(`retrain.require_approval`):\n" + "\n".join(h.line() for h in held))
