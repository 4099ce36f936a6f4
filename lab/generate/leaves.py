"""Pick the leaves to generate: named files or folders, a whole taxonomy, or the leaves changed since a base.

Leaf paths in the output are relative to the taxonomy root (`compositional_skills/.../qna.yaml`),
found by looking for the first taxonomy root folder in the path when no root is given. Uses the
taxonomy library's discovery, diff and validation where available.
"""

from __future__ import annotations

import subprocess
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
    try:
        from lab.taxonomy.discover import find_leaves  # type: ignore[import-not-found]

        return sorted(root / p if not Path(p).is_absolute() else Path(p) for p in find_leaves(root))
    except ImportError:
        return sorted(p for top in TAXONOMY_ROOTS if (root / top).is_dir() for p in (root / top).rglob(LEAF_FILE))


def changed_leaf_files(root: Path, base: str, head: str = "HEAD") -> list[Path]:
    """Leaves added or modified between the merge base of `base` and `head` (deleted ones are skipped)."""
    try:
        from lab.taxonomy.diff import changed_leaves  # type: ignore[import-not-found]

        found = [root / (getattr(c, "path", c)) for c in changed_leaves(root, base, head)]
        return sorted(p for p in found if p.is_file())
    except ImportError:
        pass
    try:
        names = subprocess.run(["git", "-C", str(root), "diff", "--name-only", "--diff-filter=AMR", f"{base}...{head}"],
                               check=True, capture_output=True, text=True, timeout=60).stdout.split("\n")
    except (subprocess.CalledProcessError, subprocess.TimeoutExpired) as exc:
        raise LeafSelectionError(f"cannot diff {base}...{head} in {root}: {getattr(exc, 'stderr', '') or exc}") from exc
    return sorted(root / n for n in names if n.endswith(LEAF_FILE) and n.startswith(TAXONOMY_ROOTS) and (root / n).is_file())


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
