"""Fetch a knowledge leaf's documents: a git repository at a pinned commit, shallow and sparse.

Only https remotes are fetched, unless local repositories are explicitly allowed (tests, air-gapped
mirrors) with ARBORIST_ALLOW_LOCAL_DOCS=1 or `allow_local=True`. Checkouts are cached by
sha256(repo)/commit; only markdown files matching the leaf's patterns are read, each size-capped.
"""

from __future__ import annotations

import fnmatch
import hashlib
import os
import re
import shutil
import subprocess
import tempfile
from dataclasses import dataclass
from pathlib import Path

from lab.taxonomy.leaf import Document

DEFAULT_DOCS_CACHE = Path("~/.cache/arborist/docs")
MAX_FILE_BYTES = 2 * 1024 * 1024  # per document file
MAX_TOTAL_BYTES = 10 * 1024 * 1024  # per leaf
GIT_TIMEOUT_S = 120
COMMIT = re.compile(r"^[0-9a-f]{7,64}$")
MARKDOWN_SUFFIXES = (".md", ".markdown")


class DocumentError(RuntimeError):
    """The documents of a leaf could not be fetched or read; the message says why and what to do."""


@dataclass(frozen=True)
class DocsSettings:
    cache_dir: Path = DEFAULT_DOCS_CACHE  # checkouts live under <cache_dir>/<sha256(repo)>/<commit>
    allow_local: bool = False  # accept local paths and file:// remotes (off unless asked for)
    max_file_bytes: int = MAX_FILE_BYTES
    max_total_bytes: int = MAX_TOTAL_BYTES
    timeout_s: int = GIT_TIMEOUT_S

    @classmethod
    def from_env(cls, environ: dict[str, str] | None = None) -> DocsSettings:
        env = os.environ if environ is None else environ
        cache = env.get("ARBORIST_DOCS_CACHE")
        return cls(cache_dir=Path(cache) if cache else DEFAULT_DOCS_CACHE,
                   allow_local=env.get("ARBORIST_ALLOW_LOCAL_DOCS") == "1")


def _remote(repo: str, allow_local: bool) -> str:
    if repo.startswith("https://"):
        return repo
    if allow_local and (repo.startswith("file://") or Path(repo).is_dir()):
        return repo if repo.startswith("file://") else Path(repo).resolve().as_uri()
    if repo.startswith(("file://", "/", ".")) or Path(repo).is_dir():
        raise DocumentError(f"document repo {repo!r} is local; set ARBORIST_ALLOW_LOCAL_DOCS=1 to allow it")
    raise DocumentError(f"document repo {repo!r} is not an https URL; only https remotes are fetched")


def _git(args: list[str], cwd: Path, timeout: int, stdin: str | None = None) -> None:
    env = {**os.environ, "GIT_TERMINAL_PROMPT": "0", "GIT_ASKPASS": "true"}
    try:
        subprocess.run(["git", "-c", "protocol.file.allow=always", "-c", "core.hooksPath=/dev/null", *args],
                       cwd=cwd, env=env, check=True, capture_output=True, timeout=timeout,
                       input=(stdin or "").encode())
    except subprocess.TimeoutExpired as exc:
        raise DocumentError(f"git {args[0]} took longer than {timeout} s") from exc
    except subprocess.CalledProcessError as exc:
        detail = exc.stderr.decode("utf-8", "replace").strip().splitlines()[-1:] or ["(no message)"]
        raise DocumentError(f"git {args[0]} failed: {detail[0]}") from exc


def checkout(document: Document, settings: DocsSettings) -> Path:
    """The cached checkout of the document's repo at its commit, fetched once (shallow, sparse)."""
    if not COMMIT.match(document.commit):
        raise DocumentError(f"document commit {document.commit!r} is not a commit hash")
    remote = _remote(document.repo, settings.allow_local)
    root = settings.cache_dir.expanduser() / hashlib.sha256(document.repo.encode()).hexdigest()[:32]
    dest = root / document.commit
    if (dest / ".arborist-complete").exists():
        return dest
    root.mkdir(parents=True, exist_ok=True)
    work = Path(tempfile.mkdtemp(prefix=".fetch-", dir=root))
    try:
        t = settings.timeout_s
        _git(["init", "-q"], work, t)
        _git(["remote", "add", "origin", remote], work, t)
        # Patterns come from a PR: fed on stdin so none can be read as an option.
        _git(["sparse-checkout", "set", "--no-cone", "--stdin"], work, t, stdin="\n".join(document.patterns) + "\n")
        _git(["fetch", "-q", "--depth", "1", "--filter=blob:none", "origin", document.commit], work, t)
        _git(["checkout", "-q", "FETCH_HEAD"], work, t)
        shutil.rmtree(work / ".git", ignore_errors=True)
        (work / ".arborist-complete").write_text(document.commit)
        if dest.exists():
            shutil.rmtree(dest)
        work.rename(dest)
    finally:
        if work.exists():
            shutil.rmtree(work, ignore_errors=True)
    return dest


def read_documents(document: Document, settings: DocsSettings) -> list[tuple[str, str]]:
    """(path, markdown text) for each matching markdown file, in path order, within the size caps."""
    root = checkout(document, settings)
    files = sorted(p for p in root.rglob("*") if p.is_file() and not p.is_symlink())
    out: list[tuple[str, str]] = []
    total = 0
    for path in files:
        rel = path.relative_to(root).as_posix()
        if not any(fnmatch.fnmatch(rel, pat) for pat in document.patterns):
            continue
        if not rel.lower().endswith(MARKDOWN_SUFFIXES):
            continue
        size = path.stat().st_size
        if size > settings.max_file_bytes:
            raise DocumentError(f"{rel} is {size} bytes, over the {settings.max_file_bytes}-byte limit per file")
        total += size
        if total > settings.max_total_bytes:
            raise DocumentError(f"documents exceed the {settings.max_total_bytes}-byte limit per leaf")
        out.append((rel, path.read_text("utf-8", errors="replace")))
    if not out:
        raise DocumentError(f"no markdown file in {document.repo}@{document.commit[:12]} matches "
                            f"{', '.join(document.patterns) or '(no patterns)'}")
    return out
