"""Pick the leaves to generate: named files or folders, a whole taxonomy, or the leaves changed since a base.

Leaf paths in the output are relative to the taxonomy root (`compositional_skills/.../qna.yaml`),
found by looking for the first taxonomy root folder in the path when no root is given. Uses the
taxonomy library's discovery, diff and validation where available.
"""

from __future__ import annotations

from collections.abc import Iterable
from pathlib import Path

from lab.taxonomy.leaf import TAXONOMY_ROOTS, Leaf, leaf_from_yaml

LEAF_FILE = "qna.yaml"
MAX_LEAF_BYTES = 1024 * 1024  # a qna.yaml bigger than this is not a taxonomy leaf


class LeafSelectionError(ValueError):
    """The named leaves cannot be found or read; the message says which and why."""


def relative_leaf_path(path: Path, root: Path | None) -> str:
    """`path` relative to the taxonomy root, with forward slashes."""
    resolved = path.resolve()
    if root is not None:
        try:
            return resolved.relative_to(root.resolve()).as_posix()
        except ValueError:
            pass
    parts = resolved.parts
    for i, part in enumerate(parts):
        if part in TAXONOMY_ROOTS:
            return "/".join(parts[i:])
    raise LeafSelectionError(f"{path} is not under a taxonomy root ({', '.join(TAXONOMY_ROOTS)})")


def find_leaf_files(root: Path) -> list[Path]:
    """Every qna.yaml under the taxonomy roots, in path order."""
    from lab.taxonomy.discover import find_leaves

    return [root / p for p in find_leaves(root)]


def changed_leaf_files(root: Path, base: str, head: str | None = None) -> list[Path]:
    """Leaves added, modified or renamed since merge-base(base, head) (head None: the working tree).
    Deleted leaves need no data and are skipped."""
    from lab.taxonomy.diff import DiffError, changed_leaves

    try:
        changes = changed_leaves(root, base, head)
    except DiffError as exc:
        raise LeafSelectionError(f"cannot diff against {base} in {root}: {exc}") from exc
    return sorted(root / c.path for c in changes if c.status != "deleted" and (root / c.path).is_file())


def expand(paths: Iterable[str | Path]) -> list[Path]:
    """Files as given; folders become every qna.yaml below them."""
    out: list[Path] = []
    for raw in paths:
        p = Path(raw)
        if p.is_dir():
            out.extend(sorted(p.rglob(LEAF_FILE)))
        elif p.is_file():
            out.append(p)
        else:
            raise LeafSelectionError(f"{raw}: no such file or folder")
    return out


def read_leaf(path: Path, root: Path | None) -> Leaf:
    """Read one leaf; errors name the file."""
    rel = relative_leaf_path(path, root)
    size = path.stat().st_size
    if size > MAX_LEAF_BYTES:
        raise LeafSelectionError(f"{rel}: {size} bytes is too large for a leaf")
    try:
        return leaf_from_yaml(rel, path.read_bytes())
    except (ValueError, UnicodeDecodeError, AttributeError) as exc:
        raise LeafSelectionError(f"{rel}: cannot read as a leaf: {exc}") from exc
    except Exception as exc:  # yaml errors
        raise LeafSelectionError(f"{rel}: not valid YAML: {exc}") from exc
