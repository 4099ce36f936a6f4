"""Running git on untrusted repositories: one hardened configuration, a clean environment, bounded time and size.

Every git call of Arborist goes through here: the taxonomy checkout (`ci.checkout`), the history a
retrain reads (`ci.retrain`), the PR's base (`ci.generate`), `lab diff` (`lab.taxonomy.diff`) and the
document fetcher (`lab.generate.documents`).
Hooks point at /dev/null, submodules are not recursed, LFS filters are skipped, the user's and the
system's git config and every GIT_* variable of the caller are ignored (so no `url.*.insteadOf`
or credential helper applies), and prompts are off. A token, when there is one, travels in an
`http.extraheader` set through GIT_CONFIG_* variables: never in the URL, the command line or a log.
"""

from __future__ import annotations

import base64
import os
import subprocess
import time
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import NoReturn

HARDENING = (
    "-c", "core.hooksPath=/dev/null",
    "-c", "core.symlinks=false",  # a symlink in a PR becomes a plain file holding its target text
    "-c", "core.fsmonitor=false",
    "-c", "protocol.file.allow=always",
    "-c", "submodule.recurse=false",
    "-c", "fetch.recurseSubmodules=false",
    "-c", "filter.lfs.smudge=",
    "-c", "filter.lfs.process=",
    "-c", "filter.lfs.required=false",
    "-c", "credential.helper=",
    "-c", "advice.detachedHead=false",
)
POLL_S = 0.2  # how often a bounded run checks its folder's size
GIT_TIMEOUT_S = 600.0  # one git command, when the caller names no bound; a stuck server is not a taxonomy
DROPPED_PREFIXES = ("GIT_", "GITHUB_TOKEN", "ARBORIST_GITHUB_TOKEN")


class GitError(RuntimeError):
    """git failed, ran too long or wrote too much; the message is safe to show (never the token)."""


def git_env(token: str | None = None, base: Mapping[str, str] | None = None) -> dict[str, str]:
    """The environment for git: no user or system config, no prompts, the token as an extra header."""
    env = {k: v for k, v in (base if base is not None else os.environ).items() if not k.startswith(DROPPED_PREFIXES)}
    env.update({"GIT_CONFIG_NOSYSTEM": "1", "GIT_CONFIG_GLOBAL": os.devnull, "GIT_TERMINAL_PROMPT": "0",
                "GIT_LFS_SKIP_SMUDGE": "1", "GIT_ASKPASS": "true", "GIT_CONFIG_COUNT": "0"})
    if token:
        basic = base64.b64encode(f"x-access-token:{token}".encode()).decode()
        env.update({"GIT_CONFIG_COUNT": "1", "GIT_CONFIG_KEY_0": "http.extraheader",
                    "GIT_CONFIG_VALUE_0": f"AUTHORIZATION: basic {basic}"})
    return env


def folder_bytes(folder: Path) -> int:
    """Bytes of the regular files under `folder` (links not followed)."""
    total = 0
    for current, _dirs, names in os.walk(folder):
        for name in names:
            try:
                total += os.lstat(os.path.join(current, name)).st_size
            except OSError:
                continue
    return total


def run_git(args: Sequence[str], cwd: Path, *, token: str | None = None, timeout_s: float = GIT_TIMEOUT_S,
            options: Sequence[str] = (), error: type[Exception] = GitError) -> str:
    """`git args` in `cwd` with the hardened config and a clean environment; its stdout.

    `token` (for fetches) travels as an extra header and is masked in any message; a failure, a
    timeout or a missing git raises `error` (the caller's own exception type) with a one-line reason.
    """
    try:
        return run_bounded(args, cwd, git_env(token), timeout_s, options=options)
    except GitError as exc:
        raise error(str(exc).replace(token, "***") if token else str(exc)) from None


def run_bounded(args: Sequence[str], cwd: Path, env: Mapping[str, str], timeout_s: float,
                max_bytes: int | None = None, stdin: str | None = None, options: Sequence[str] = ()) -> str:
    """Run `git HARDENING options args`; kill it past `timeout_s` or once `cwd` holds more than `max_bytes`.

    Output is decoded as UTF-8 with undecodable bytes kept as surrogates (a PR's file names may be anything)."""
    try:
        process = subprocess.Popen(["git", *HARDENING, *options, *args], cwd=cwd, env=dict(env),
                                   stdin=subprocess.PIPE if stdin is not None else subprocess.DEVNULL,
                                   stdout=subprocess.PIPE, stderr=subprocess.PIPE, start_new_session=True)
    except FileNotFoundError:
        _not_found(cwd)
    deadline = time.monotonic() + timeout_s
    pending = stdin.encode("utf-8", "surrogateescape") if stdin is not None else None
    while True:
        try:
            out, err = process.communicate(pending, timeout=POLL_S)
            break
        except subprocess.TimeoutExpired:
            pending = None  # communicate sent it on the first call
            if time.monotonic() > deadline:
                _stop(process)
                raise GitError(f"git {args[0]} took longer than {timeout_s:.0f} s") from None
            if max_bytes is not None and folder_bytes(cwd) > max_bytes:
                _stop(process)
                raise GitError(f"git {args[0]} stopped: more than {max_bytes:,} bytes downloaded") from None
    if max_bytes is not None and folder_bytes(cwd) > max_bytes:  # it finished between two looks
        raise GitError(f"git {args[0]} stopped: more than {max_bytes:,} bytes downloaded")
    if process.returncode != 0:
        lines = (err or out).decode("utf-8", "replace").strip().splitlines() or ["(no message)"]
        raise GitError(f"git {args[0]} failed: {lines[-1][-300:]}")
    return out.decode("utf-8", "surrogateescape")


def _not_found(cwd: Path) -> NoReturn:
    """Popen could not start git: either git or the folder is missing; say which."""
    if not Path(cwd).is_dir():
        raise GitError(f"{cwd} is not a folder")
    raise GitError("git is not installed (or not on PATH)")


def _stop(process: subprocess.Popen) -> None:
    """Kill git and the helpers it started (git-remote-https), then reap it."""
    try:
        os.killpg(process.pid, 9)
    except OSError:
        process.kill()
    process.communicate()
