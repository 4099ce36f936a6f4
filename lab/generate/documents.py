"""Fetch a knowledge leaf's documents: a git repository at a pinned commit, shallow and sparse.

Only public https remotes are fetched. The host is read as git reads it (lab.taxonomy.hosts), then
resolved here, and every address it resolves to must be public: loopback, link-local, private,
multicast, unspecified and reserved addresses are refused, and git is pinned to the addresses that
were checked (`http.curloptResolve`) and follows no redirect, so a name cannot resolve one way for
the check and another for the connection. Git runs with lab.safegit's hardened config and a clean
environment (no user, system or GIT_* config), within one deadline per checkout and a cap on the
bytes it downloads. A proxy in the environment (https_proxy) connects on git's behalf and is the
operator's choice.

Local repositories (paths, file://) are fetched only when explicitly allowed: `lab generate
--allow-local-docs` or ARBORIST_ALLOW_LOCAL_DOCS=1 (`allow_local=True`); never for a pull request
(`DocsSettings.for_pull_requests`). An operator may serve a public URL from a local mirror with
ARBORIST_DOCS_MIRRORS ("https://github.com/org/docs=file:///srv/docs", several separated by spaces):
the leaf still names the https URL. Checkouts are cached by sha256(repo)/commit; only markdown files
matching the leaf's patterns are read, each size-capped.
"""

from __future__ import annotations

import fnmatch
import hashlib
import ipaddress
import re
import shutil
import socket
import tempfile
import time
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Annotated, ClassVar
from urllib.parse import urlsplit

from pydantic import AliasChoices, Field, field_validator
from pydantic_settings import NoDecode

from lab.safegit import GitError, git_env, run_bounded
from lab.taxonomy.hosts import address_problem, host_problem, normalise_host
from lab.taxonomy.leaf import Document
from schemas.env_settings import EnvSettings

DEFAULT_DOCS_CACHE = Path("~/.cache/arborist/docs")
MAX_FILE_BYTES = 2 * 1024 * 1024  # per document file
MAX_TOTAL_BYTES = 10 * 1024 * 1024  # per leaf
MAX_FETCH_BYTES = 200 * 1024 * 1024  # what git may download for one checkout (objects and files)
GIT_TIMEOUT_S = 120  # one deadline for the whole checkout of one document repository
COMMIT = re.compile(r"^[0-9a-f]{7,64}$")
MARKDOWN_SUFFIXES = (".md", ".markdown")
ALLOW_LOCAL_ENV = "ARBORIST_ALLOW_LOCAL_DOCS"
MIRRORS_ENV = "ARBORIST_DOCS_MIRRORS"
REMOTE_GIT = ("-c", "http.followRedirects=false", "-c", "protocol.allow=never", "-c", "protocol.https.allow=always",
              "-c", "protocol.file.allow=never")
LOCAL_GIT = ("-c", "protocol.allow=never", "-c", "protocol.file.allow=always")
Resolver = Callable[[str, int], list[str]]  # (host, port) -> IP addresses


class DocumentError(RuntimeError):
    """The documents of a leaf could not be fetched or read; the message says why and what to do."""


def system_resolver(host: str, port: int) -> list[str]:
    """Every address the system resolver gives for `host` (what git's libcurl would try)."""
    try:
        infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    except (socket.gaierror, UnicodeError) as exc:
        raise DocumentError(f"cannot resolve {host}: {exc}") from None
    return list(dict.fromkeys(str(info[4][0]) for info in infos))


class DocsSettings(EnvSettings):
    """Where document checkouts live and what may be fetched; the operator sets three of these in the environment."""

    not_from_env: ClassVar[frozenset[str]] = frozenset({"max_file_bytes", "max_total_bytes", "max_fetch_bytes",
                                                        "timeout_s", "resolver"})

    cache_dir: Annotated[Path, Field(validation_alias=AliasChoices("ARBORIST_DOCS_CACHE", "cache_dir"))] = (
        DEFAULT_DOCS_CACHE)  # checkouts live under <cache_dir>/<sha256(repo)>/<commit>
    allow_local: Annotated[bool, Field(validation_alias=AliasChoices(ALLOW_LOCAL_ENV, "allow_local"))] = (
        False)  # accept local paths and file:// remotes (off unless asked for)
    max_file_bytes: int = MAX_FILE_BYTES
    max_total_bytes: int = MAX_TOTAL_BYTES
    max_fetch_bytes: int = MAX_FETCH_BYTES
    timeout_s: int = GIT_TIMEOUT_S
    resolver: Resolver = system_resolver  # injected in tests
    mirrors: Annotated[tuple[tuple[str, str], ...], NoDecode, Field(validation_alias=AliasChoices(MIRRORS_ENV, "mirrors"))] = (
        ())  # (public https prefix, local git URL), set by the operator

    @field_validator("mirrors", mode="before")
    @classmethod
    def _parse_mirrors(cls, value: object) -> object:
        return parse_mirrors(value) if isinstance(value, str) else value

    @classmethod
    def from_env(cls, environ: Mapping[str, str] | None = None) -> DocsSettings:
        return cls.from_environ(environ)

    @classmethod
    def for_pull_requests(cls, environ: Mapping[str, str] | None = None) -> DocsSettings:
        """The settings for a PR's leaves: the operator's cache and mirrors, never local repositories."""
        return cls.from_environ(environ).model_copy(update={"allow_local": False})


def parse_mirrors(text: str) -> tuple[tuple[str, str], ...]:
    """'https://public/prefix=file:///local ...' -> ((public, local), ...); malformed entries are skipped."""
    pairs = (item.split("=", 1) for item in text.split() if "=" in item)
    return tuple((public.rstrip("/"), local.rstrip("/")) for public, local in pairs
                 if public.startswith("https://") and local)


def _mirror(repo: str, mirrors: tuple[tuple[str, str], ...]) -> str | None:
    for public, local in mirrors:
        if repo == public or repo.startswith(public + "/") or repo == public + ".git":
            return local + repo[len(public):]
    return None


def _local(repo: str, allow_local: bool) -> str | None:
    """The file:// URL of an allowed local repository, None for an https one; DocumentError otherwise."""
    if repo.startswith("https://"):
        return None
    if allow_local and (repo.startswith("file://") or Path(repo).is_dir()):
        return repo if repo.startswith("file://") else Path(repo).resolve().as_uri()
    if repo.startswith(("file://", "/", ".")) or Path(repo).is_dir():
        raise DocumentError(f"document repo {repo!r} is local; pass --allow-local-docs (or set "
                            f"{ALLOW_LOCAL_ENV}=1) to allow it")
    raise DocumentError(f"document repo {repo!r} is not an https URL; only https remotes are fetched")


def _host_port(repo: str) -> tuple[str, int, str | ipaddress.IPv4Address | ipaddress.IPv6Address]:
    """(host as written, port, the name or address git would connect to); DocumentError if not public."""
    try:
        parts = urlsplit(repo)
        host, port = parts.hostname or "", parts.port or 443
    except ValueError:
        raise DocumentError(f"document repo {repo[:80]!r} is not a valid URL") from None
    if parts.username or parts.password:
        raise DocumentError("document repo URLs must not hold credentials")
    target, invalid = normalise_host(host)
    if invalid or target is None:
        raise DocumentError(f"document repo host {host[:80]!r} {invalid}")
    return host, port, target


def _pinned(repo: str, resolver: Resolver) -> tuple[str, ...]:
    """Git options that pin the connection to checked public addresses (resolved here, at connect time)."""
    host, port, target = _host_port(repo)
    addresses = [str(target)] if not isinstance(target, str) else resolver(target, port)
    if not addresses:
        raise DocumentError(f"{host} resolves to no address")
    for text in addresses:
        try:
            problem = address_problem(ipaddress.ip_address(text.split("%")[0]))
        except ValueError:
            problem = f"an unreadable address {text!r}"
        if problem:
            how = "resolves to" if isinstance(target, str) else "is"
            raise DocumentError(f"document repo host {host} {how} a {problem}; only public hosts are fetched")
    if not isinstance(target, str):
        return REMOTE_GIT
    shown = ",".join(f"[{a}]" if ":" in a else a for a in addresses)
    return (*REMOTE_GIT, "-c", f"http.curloptResolve={host}:{port}:{shown}")


def checkout(document: Document, settings: DocsSettings) -> Path:
    """The cached checkout of the document's repo at its commit, fetched once (shallow, sparse)."""
    if not COMMIT.match(document.commit):
        raise DocumentError(f"document commit {document.commit!r} is not a commit hash")
    mirror = _mirror(document.repo, settings.mirrors)
    local = mirror or _local(document.repo, settings.allow_local)
    if local is None:  # refuse internal hosts before even looking at the cache
        host, _, _ = _host_port(document.repo)
        problem = host_problem(host)
        if problem:
            raise DocumentError(f"document repo host {host!r} {problem}; only public hosts are fetched")
    root = settings.cache_dir.expanduser() / hashlib.sha256(document.repo.encode()).hexdigest()[:32]
    dest = root / document.commit
    if (dest / ".arborist-complete").exists():
        return dest
    options = LOCAL_GIT if local else _pinned(document.repo, settings.resolver)
    root.mkdir(parents=True, exist_ok=True)
    work = Path(tempfile.mkdtemp(prefix=".fetch-", dir=root))
    try:
        _fetch(work, local or document.repo, document, options, settings)
        shutil.rmtree(work / ".git", ignore_errors=True)
        (work / ".arborist-complete").write_text(document.commit)
        if dest.exists():
            shutil.rmtree(dest)
        work.rename(dest)
    finally:
        if work.exists():
            shutil.rmtree(work, ignore_errors=True)
    return dest


def _fetch(work: Path, remote: str, document: Document, options: tuple[str, ...], settings: DocsSettings) -> None:
    """init, sparse patterns, one shallow fetch, checkout: one deadline and one size cap for all of it."""
    env, deadline = git_env(None), time.monotonic() + settings.timeout_s

    def git(args: list[str], stdin: str | None = None) -> None:
        left = deadline - time.monotonic()
        if left <= 0:
            raise DocumentError(f"fetching the documents took longer than {settings.timeout_s} s")
        try:
            run_bounded(args, work, env, left, settings.max_fetch_bytes, stdin, options)
        except GitError as exc:
            raise DocumentError(str(exc)) from None

    git(["init", "-q", "--template="])
    git(["remote", "add", "origin", remote])
    # Patterns come from a PR: fed on stdin so none can be read as an option.
    git(["sparse-checkout", "set", "--no-cone", "--stdin"], stdin="\n".join(document.patterns) + "\n")
    git(["fetch", "-q", "--depth", "1", "--filter=blob:none", "--no-tags", "--no-recurse-submodules", "origin",
         document.commit])
    git(["checkout", "-q", "FETCH_HEAD"])


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
