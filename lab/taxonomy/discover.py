"""Finding taxonomy files on disk without following symlinks."""

from __future__ import annotations

import os
from pathlib import Path

from lab.taxonomy.leaf import TAXONOMY_ROOTS
from lab.taxonomy.paths import LEAF_NAME, YAML_SUFFIXES


def find_leaves(root: Path | str) -> list[str]:
    """Every regular qna.yaml under the taxonomy roots, as sorted root-relative posix paths."""
    return [p for p in find_candidates(root) if p.rsplit("/", 1)[-1] == LEAF_NAME and
            (Path(root) / p).is_file() and not (Path(root) / p).is_symlink()]


def find_candidates(root: Path | str) -> list[str]:
    """qna.yaml, misnamed .yaml/.yml, symlinks and directories named like them, under the roots."""
    root = Path(root)
    found: list[str] = []
    for top in TAXONOMY_ROOTS:
        base = root / top
        if base.is_symlink():
            found.append(top)
            continue
        if not base.is_dir():
            continue
        for folder, dirs, files in os.walk(base, followlinks=False):
            rel = Path(folder).relative_to(root).as_posix()
            dirs[:] = sorted(d for d in dirs if not d.startswith("."))
            for name in list(dirs):
                full = Path(folder) / name
                if full.is_symlink() or name == LEAF_NAME:
                    found.append(f"{rel}/{name}")
                    dirs.remove(name)
            for name in sorted(files):
                if name == LEAF_NAME or name.lower().endswith(YAML_SUFFIXES):
                    found.append(f"{rel}/{name}")
    return sorted(found)
