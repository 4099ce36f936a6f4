"""The plain list of file operations one release commit consists of (pure, so it can be tested alone)."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path, PurePosixPath
from typing import Literal

from lab.publish.release import RECORD_FILE
from lab.publish.signing import SIG_FILE

KEEP = (".gitattributes",)  # files of the repository itself, never deleted by a release
LAST = ("README.md", RECORD_FILE, SIG_FILE)  # written last, so a reader that sees the record sees the files


@dataclass(frozen=True)
class Operation:
    kind: Literal["add", "delete"]
    path: str  # POSIX path inside the repository
    source: Path | bytes | None = None  # what to upload, for "add"


def check_repo_path(path: str) -> str:
    """Refuse absolute paths, `..`, backslashes and empty parts: a release writes only inside its repo."""
    pure = PurePosixPath(path)
    if not path or "\\" in path or pure.is_absolute() or any(p in ("", ".", "..") for p in path.split("/")):
        raise ValueError(f"invalid path in release: {path!r}")
    return str(pure)


def plan_operations(new_files: Mapping[str, Path | bytes], existing: Iterable[str],
                    keep: Iterable[str] = KEEP) -> list[Operation]:
    """Add every file of the new release, delete what the previous one had and this one does not.

    Order: deletions, then data files sorted by path, then the card, then release.json.
    """
    keep_set = set(keep)
    new = {check_repo_path(p): src for p, src in new_files.items()}
    deletes = [Operation("delete", p) for p in sorted(set(existing) - set(new) - keep_set)]
    first = sorted(p for p in new if p not in LAST)
    last = [p for p in LAST if p in new]
    return deletes + [Operation("add", p, new[p]) for p in first + last]


def to_hf_operations(operations: list[Operation]) -> list:
    """The same list as huggingface_hub commit operations (the only place that library is needed)."""
    from huggingface_hub import CommitOperationAdd, CommitOperationDelete

    out: list = []
    for op in operations:
        if op.kind == "delete":
            out.append(CommitOperationDelete(path_in_repo=op.path))
        else:
            source = op.source if isinstance(op.source, bytes) else str(op.source)
            out.append(CommitOperationAdd(path_in_repo=op.path, path_or_fileobj=source))
    return out
