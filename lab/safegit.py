"""Running git on untrusted repositories: one hardened configuration, a clean environment, bounded time and size.

Shared by the taxonomy checkout (`ci.checkout`) and the document fetcher (`lab.generate.documents`).
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


def run_bounded(args: Sequence[str], cwd: Path, env: Mapping[str, str], timeout_s: float,
                max_bytes: int | None = None, stdin: str | None = None, options: Sequence[str] = ()) -> str:
    """Run `git HARDENING options args`; kill it past `timeout_s` or once `cwd` holds more than `max_bytes`."""
    process = subprocess.Popen(["git", *HARDENING, *options, *args], cwd=cwd, env=dict(env), text=True,
                               stdin=subprocess.PIPE if stdin is not None else subprocess.DEVNULL,
                               stdout=subprocess.PIPE, stderr=subprocess.PIPE, start_new_session=True)
    deadline = time.monotonic() + timeout_s
    pending = stdin
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
        lines = (err or out).strip().splitlines() or ["(no message)"]
        raise GitError(f"git {args[0]} failed: {lines[-1][-300:]}")
    return out


def _stop(process: subprocess.Popen) -> None:
    """Kill git and the helpers it started (git-remote-https), then reap it."""
    try:
        os.killpg(process.pid, 9)
    except OSError:
        process.kill()
    process.communicate()
