"""A run's output is written beside its target and swapped in at the end, so a failed run never erases a good one.

`staging_for(out)` makes an empty hidden folder in `out`'s parent (same filesystem, so renames are
atomic); `swap_into_place(staging, out)` exchanges the two folders in one step where Linux offers
renameat2(RENAME_EXCHANGE), else with two renames, and removes the old output. A run that raises
leaves `out` untouched and its staging folder removed. An existing `out` holding anything but a
previous run's output is refused before any work: swapping it would delete the stranger's files.
"""

from __future__ import annotations

import ctypes
import os
import shutil
import tempfile
from pathlib import Path

from schemas.datacontract import KNOWLEDGE_FILE, LEAVES_DIR, MANIFEST_FILE, SKILLS_FILE

OUTPUT_NAMES = frozenset({KNOWLEDGE_FILE, SKILLS_FILE, MANIFEST_FILE, LEAVES_DIR})
FAILED_SUFFIX = ".failed"  # where a failed run's output goes when the previous output is kept
AT_FDCWD = -100
RENAME_EXCHANGE = 2


class OutputError(ValueError):
    """The output folder cannot be replaced safely; the message says why."""


def check_replaceable(out: Path) -> None:
    """Refuse an `out` that exists and holds files a run did not write (e.g. `--out .`)."""
    if out.resolve() in (Path.cwd().resolve(), Path(out.resolve().anchor)):
        raise OutputError(f"--out {out} is the current or root folder; name a folder for the data")
    if not out.exists():
        return
    if not out.is_dir() or out.is_symlink():
        raise OutputError(f"--out {out} exists and is not a folder")
    strangers = sorted(p.name for p in out.iterdir() if p.name not in OUTPUT_NAMES)
    if strangers:
        shown = ", ".join(strangers[:5]) + (" ..." if len(strangers) > 5 else "")
        raise OutputError(f"--out {out} holds files a generate run did not write ({shown}); "
                          "name a new folder or an earlier run's output")


def staging_for(out: Path) -> Path:
    """An empty folder beside `out`, on the same filesystem."""
    out.parent.mkdir(parents=True, exist_ok=True)
    return Path(tempfile.mkdtemp(prefix=f".{out.name}.staging-", dir=out.parent))


def _exchange(a: Path, b: Path) -> bool:
    """Swap two paths atomically (Linux renameat2); False where the call is not available."""
    try:
        libc = ctypes.CDLL(None, use_errno=True)
        renameat2 = libc.renameat2
    except (OSError, AttributeError):
        return False
    renameat2.argtypes = [ctypes.c_int, ctypes.c_char_p, ctypes.c_int, ctypes.c_char_p, ctypes.c_uint]
    done = renameat2(AT_FDCWD, os.fsencode(a), AT_FDCWD, os.fsencode(b), RENAME_EXCHANGE) == 0
    return done


def swap_into_place(staging: Path, out: Path) -> None:
    """Make `staging` the new `out`; the previous `out` (if any) is removed afterwards."""
    if not out.exists():
        staging.rename(out)
        return
    if _exchange(staging, out):
        shutil.rmtree(staging, ignore_errors=True)  # staging now holds the previous output
        return
    old = Path(tempfile.mkdtemp(prefix=f".{out.name}.old-", dir=out.parent))
    old.rmdir()
    out.rename(old)
    staging.rename(out)
    shutil.rmtree(old, ignore_errors=True)


def failed_path(out: Path) -> Path:
    return out.with_name(out.name + FAILED_SUFFIX)
