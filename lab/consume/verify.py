"""Check a pulled release byte for byte: every file against the hash the Hub gave and what release.json lists.

The Hugging Face cache names each blob after the file's ETag (X-Linked-Etag for LFS files): the sha256
of an LFS file, the git blob id (sha1) of a regular one. A snapshot file whose content does not hash
to its blob's name was damaged in storage or on the way. release.json may also list each file's size
and sha256 (`lab publish` writes them); both are checked, and a directory release has only those.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

CHUNK = 1024 * 1024
SHA256 = re.compile(r"[0-9a-f]{64}")
GIT_SHA1 = re.compile(r"[0-9a-f]{40}")


class Mismatch(ValueError):
    """One file of a release is not what it should be; `path` is the file inside the release."""

    def __init__(self, path: str, message: str):
        super().__init__(f"{path}: {message}")
        self.path = path


def file_digests(path: Path, git_blob_id: bool = True) -> tuple[int, str, str]:
    """Size, sha256 and git blob id ("" unless asked: LFS files are large and need only the sha256)."""
    size = path.stat().st_size
    sha256 = hashlib.sha256()
    git = hashlib.sha1(b"blob %d\0" % size) if git_blob_id else None
    with open(path, "rb") as handle:
        while chunk := handle.read(CHUNK):
            sha256.update(chunk)
            if git is not None:
                git.update(chunk)
    return size, sha256.hexdigest(), git.hexdigest() if git is not None else ""


def checksums(files: dict[str, Path]) -> dict[str, dict[str, Any]]:
    """What release.json lists for each file: {path: {size, sha256}}."""
    out = {}
    for name, path in sorted(files.items()):
        size, sha256, _ = file_digests(path, git_blob_id=False)
        out[name] = {"size": size, "sha256": sha256}
    return out


def release_files(root: Path) -> Iterator[tuple[str, Path]]:
    """(path inside the release, local path) for every file under a snapshot or release folder."""
    for path in sorted(root.rglob("*")):
        if path.is_file() and ".cache" not in path.relative_to(root).parts:
            yield path.relative_to(root).as_posix(), path


def _expected_from_blob(path: Path) -> str | None:
    """The ETag the Hub gave for a cached file: the name of the blob its snapshot link points at."""
    if not path.is_symlink():
        return None
    name = path.resolve().name
    return name if SHA256.fullmatch(name) or GIT_SHA1.fullmatch(name) else None


def check_file(name: str, path: Path, listed: dict[str, Any] | None) -> None:
    """Raise Mismatch when `path` differs from its Hub ETag or from release.json's entry `listed`."""
    etag = _expected_from_blob(path)
    if etag is None and listed is None:
        return
    size, sha256, git_sha1 = file_digests(path, git_blob_id=etag is not None and len(etag) == 40)
    if etag is not None and etag not in (sha256, git_sha1):
        kind = "sha256" if len(etag) == 64 else "git blob id"
        actual = sha256 if len(etag) == 64 else git_sha1
        raise Mismatch(name, f"{kind} {actual[:16]}… but the Hub gives {etag[:16]}…")
    if listed is not None and size != listed["size"]:
        raise Mismatch(name, f"{size} bytes but release.json lists {listed['size']}")
    if listed is not None and sha256 != listed["sha256"]:
        raise Mismatch(name, f"sha256 {sha256[:16]}… but release.json lists {listed['sha256'][:16]}…")


def check_release(root: Path, listed: dict[str, dict[str, Any]] | None) -> int:
    """Check every file under `root`; returns how many were checked, raises Mismatch on the first bad one."""
    listed = listed or {}
    checked = 0
    for name, path in release_files(root):
        check_file(name, path, listed.get(name))
        checked += 1
    return checked


def require_listed(root: Path, listed: dict[str, dict[str, Any]] | None) -> None:
    """Raise Mismatch for the first file under `root` that release.json does not list (release.json aside)."""
    if not listed:
        raise Mismatch("release.json", "lists no checksums, so the release cannot be verified")
    for name, _ in release_files(root):
        if name not in ("release.json", "release.json.sig") and name not in listed:
            raise Mismatch(name, "is not listed in release.json")


def forget(path: Path) -> None:
    """Remove a damaged file from the cache (its snapshot link and its blob) so the next pull fetches it again."""
    blob = path.resolve() if path.is_symlink() else None
    path.unlink(missing_ok=True)
    if blob is not None:
        blob.unlink(missing_ok=True)
