"""ci.checkout: exactly one commit, as data: no hooks, no submodules, no LFS, the token never in a URL or log."""

from __future__ import annotations

import os
import shutil
import subprocess
from pathlib import Path

import pytest

from ci.checkout import CheckoutError, checkout_as_data, clone_url
from lab.safegit import git_env

pytestmark = pytest.mark.skipif(shutil.which("git") is None, reason="git is not installed")
GIT_ENV = {"GIT_CONFIG_NOSYSTEM": "1", "GIT_CONFIG_GLOBAL": os.devnull, "GIT_AUTHOR_NAME": "t",
           "GIT_AUTHOR_EMAIL": "t@example.com", "GIT_COMMITTER_NAME": "t", "GIT_COMMITTER_EMAIL": "t@example.com"}


def git(*args: str, cwd: Path) -> str:
    return subprocess.run(["git", *args], cwd=cwd, env={**os.environ, **GIT_ENV}, check=True, capture_output=True,
                          text=True).stdout.strip()


@pytest.fixture
def remote(tmp_path):
    """A bare 'GitHub' with two commits; the second carries a hook-like script, a symlink and .gitmodules."""
    work = tmp_path / "work"
    work.mkdir()
    git("init", "-q", "-b", "main", cwd=work)
    (work / "knowledge").mkdir()
    (work / "knowledge" / "qna.yaml").write_text("version: 3\n")
    git("add", ".", cwd=work)
    git("commit", "-q", "-m", "one", cwd=work)
    first = git("rev-parse", "HEAD", cwd=work)
    (work / "knowledge" / "qna.yaml").write_text("version: 3\nchanged: true\n")
    (work / ".githooks").mkdir()
    (work / ".githooks" / "post-checkout").write_text(f"#!/bin/sh\ntouch {tmp_path}/pwned\n")
    (work / ".githooks" / "post-checkout").chmod(0o755)
    (work / ".gitmodules").write_text('[submodule "x"]\n\tpath = x\n\turl = https://example.invalid/x.git\n')
    os.symlink("/etc/passwd", work / "link")
    git("add", ".", cwd=work)
    git("commit", "-q", "-m", "two", cwd=work)
    second = git("rev-parse", "HEAD", cwd=work)
    bare = tmp_path / "git" / "acme" / "taxonomy.git"
    bare.parent.mkdir(parents=True)
    git("clone", "-q", "--bare", str(work), str(bare), cwd=tmp_path)
    git("config", "uploadpack.allowAnySHA1InWant", "true", cwd=bare)
    return {"first": first, "second": second, "template": (tmp_path / "git").as_uri() + "/{repo}.git",
            "tmp": tmp_path}


def test_checkout_fetches_exactly_the_asked_commit(remote):
    dest = checkout_as_data("acme/taxonomy", remote["first"], remote["tmp"] / "a", url_template=remote["template"])
    assert (dest / "knowledge" / "qna.yaml").read_text() == "version: 3\n"
    assert git("rev-parse", "HEAD", cwd=dest) == remote["first"]
    assert git("rev-list", "--count", "HEAD", cwd=dest) == "1"  # shallow


def test_nothing_from_the_commit_runs_and_symlinks_stay_text(remote):
    dest = checkout_as_data("acme/taxonomy", remote["second"], remote["tmp"] / "b", url_template=remote["template"])
    assert not (remote["tmp"] / "pwned").exists()
    assert not (dest / "link").is_symlink() and (dest / "link").read_text() == "/etc/passwd"
    assert not (dest / "x").exists()  # the submodule was not cloned


def test_hooks_from_the_users_git_config_never_run(remote, monkeypatch):
    hooks = remote["tmp"] / "hooks"
    hooks.mkdir()
    (hooks / "post-checkout").write_text(f"#!/bin/sh\ntouch {remote['tmp']}/hooked\n")
    (hooks / "post-checkout").chmod(0o755)
    config = remote["tmp"] / "gitconfig"
    config.write_text(f"[core]\n\thooksPath = {hooks}\n")
    monkeypatch.setenv("GIT_CONFIG_GLOBAL", str(config))
    control_env = {**os.environ, **GIT_ENV, "GIT_CONFIG_GLOBAL": str(config)}
    subprocess.run(["git", "clone", "-q", remote["template"].replace("{repo}", "acme/taxonomy"),
                    str(remote["tmp"] / "control")], env=control_env, check=True, capture_output=True)
    assert (remote["tmp"] / "hooked").exists(), "control: a plain clone runs the configured hook"
    (remote["tmp"] / "hooked").unlink()
    checkout_as_data("acme/taxonomy", remote["first"], remote["tmp"] / "f", url_template=remote["template"])
    assert not (remote["tmp"] / "hooked").exists()


def test_the_url_template_comes_from_the_environment(remote, monkeypatch):
    monkeypatch.setenv("ARBORIST_GIT_URL_TEMPLATE", remote["template"])
    dest = checkout_as_data("acme/taxonomy", remote["first"], remote["tmp"] / "c")
    assert (dest / "knowledge" / "qna.yaml").exists()


def test_a_missing_commit_fails_without_showing_the_token(remote):
    token = "ghs_secretsecretsecret"
    with pytest.raises(CheckoutError) as info:
        checkout_as_data("acme/taxonomy", "f" * 40, remote["tmp"] / "d", token=token, url_template=remote["template"])
    assert token not in str(info.value)


@pytest.mark.parametrize(("repo", "sha"), [("acme/../etc", "a" * 40), ("acme", "a" * 40), ("acme/t", "HEAD"),
                                           ("acme/t", "a" * 39), ("acme/t", "--upload-pack=x")])
def test_malformed_repository_names_and_shas_are_refused(tmp_path, repo, sha):
    with pytest.raises(CheckoutError):
        checkout_as_data(repo, sha, tmp_path / "e", url_template="file:///nowhere/{repo}")


def test_the_token_travels_as_a_header_never_in_the_url():
    env = git_env("ghs_abc123", base={"PATH": "/bin", "GITHUB_TOKEN": "leak", "GIT_DIR": "/x"})
    assert "ghs_abc123" not in clone_url("acme/taxonomy")
    assert env["GIT_CONFIG_KEY_0"] == "http.extraheader" and env["GIT_CONFIG_VALUE_0"].startswith("AUTHORIZATION: basic ")
    assert "GITHUB_TOKEN" not in env and "GIT_DIR" not in env and env["GIT_TERMINAL_PROMPT"] == "0"
    assert clone_url("acme/taxonomy") == "https://github.com/acme/taxonomy.git"
