"""lab.safegit.run_git, the one way Arborist runs git: the caller's error type, the token masked, bounded time, any file name."""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import threading
import time

import pytest

from lab.safegit import GitError, run_git

pytestmark = pytest.mark.skipif(shutil.which("git") is None, reason="git is not installed")
GIT_ENV = {"GIT_CONFIG_NOSYSTEM": "1", "GIT_CONFIG_GLOBAL": os.devnull, "GIT_AUTHOR_NAME": "t",
           "GIT_AUTHOR_EMAIL": "t@example.com", "GIT_COMMITTER_NAME": "t", "GIT_COMMITTER_EMAIL": "t@example.com"}


class StepError(RuntimeError):
    """Stands for a caller's own error type (CheckoutError, DiffError)."""


@pytest.fixture
def repo(tmp_path):
    env = {**os.environ, **GIT_ENV}
    subprocess.run(["git", "init", "-q", "-b", "main", str(tmp_path)], check=True, env=env)
    return tmp_path, env


def test_a_failure_raises_the_callers_error_in_one_line_with_the_token_masked(repo):
    root, _ = repo
    token = "ghs_0123456789abcdefSECRET"
    with pytest.raises(StepError) as info:
        run_git(["cat-file", "-t", token], root, token=token, error=StepError)  # git echoes the bad name
    message = str(info.value)
    assert token not in message and "***" in message and message.startswith("git cat-file failed: ")
    assert "\n" not in message


def test_file_names_that_are_not_utf8_come_back_intact(repo):
    root, env = repo
    name = b"knowledge/caf\xe9/qna.yaml"  # Latin-1, not UTF-8: a hostile PR can name a file anything
    path = os.path.join(os.fsencode(root), name)
    os.makedirs(os.path.dirname(path))
    with open(path, "wb") as handle:
        handle.write(b"version: 3\n")
    subprocess.run(["git", "-C", str(root), "add", "-A"], check=True, env=env)
    out = run_git(["-c", "core.quotePath=false", "ls-files", "-z"], root)
    assert out.split("\0")[0].encode("utf-8", "surrogateescape") == name


def test_a_server_that_never_answers_is_cut_at_the_time_bound(repo):
    root, _ = repo
    with socket.socket() as server:
        server.bind(("127.0.0.1", 0))
        server.listen(1)
        accepted: list[socket.socket] = []
        threading.Thread(target=lambda: accepted.append(server.accept()[0]), daemon=True).start()
        started = time.monotonic()
        with pytest.raises(GitError, match="took longer than"):
            run_git(["ls-remote", f"http://127.0.0.1:{server.getsockname()[1]}/x.git"], root, timeout_s=1.0)
        assert time.monotonic() - started < 10
        for connection in accepted:
            connection.close()


def test_a_missing_git_or_folder_is_said_plainly(tmp_path, monkeypatch):
    with pytest.raises(StepError, match="is not a folder"):
        run_git(["status"], tmp_path / "nowhere", error=StepError)
    monkeypatch.setenv("PATH", str(tmp_path))  # no git on this PATH
    with pytest.raises(GitError, match="git is not installed"):
        run_git(["status"], tmp_path)


def test_hooks_and_the_callers_git_variables_never_apply(repo, monkeypatch):
    root, env = repo
    hook = root / ".git" / "hooks" / "post-checkout"
    hook.write_text("#!/bin/sh\ntouch \"$GIT_DIR/../hooked\"\n")
    hook.chmod(0o755)
    (root / "a.txt").write_text("a\n")
    subprocess.run(["git", "-C", str(root), "add", "-A"], check=True, env=env)
    subprocess.run(["git", "-C", str(root), "commit", "-q", "-m", "one"], check=True, env=env)
    monkeypatch.setenv("GIT_DIR", "/nonexistent")  # a caller's variable must not redirect git
    run_git(["checkout", "-q", "-b", "other"], root)
    assert not (root / "hooked").exists()
    assert run_git(["rev-parse", "--abbrev-ref", "HEAD"], root).strip() == "other"
