"""The document fetcher never connects inside: hosts in git's spellings, names that resolve inside, clean git.

A real TCP listener on loopback stands for the internal service an attacker aims at: every test
that points a leaf at it asserts that nothing connected.
"""

from __future__ import annotations

import base64
import os
import socket
import subprocess
import threading

import pytest

from lab.generate.documents import DocsSettings, DocumentError, _pinned, parse_mirrors, read_documents
from lab.taxonomy.leaf import Document

from .conftest import MARS_DOC, make_doc_repo

COMMIT = "0" * 40
PUBLIC = "93.184.216.34"  # a public address (never connected to: these tests stop before git runs)


@pytest.fixture
def listener():
    """A loopback TCP server that counts the connections it accepts."""
    server = socket.socket()
    server.bind(("127.0.0.1", 0))
    server.listen(8)
    server.settimeout(0.2)
    accepted: list[tuple] = []
    stop = threading.Event()

    def serve():
        while not stop.is_set():
            try:
                conn, peer = server.accept()
            except OSError:
                continue
            accepted.append(peer)
            conn.close()

    thread = threading.Thread(target=serve, daemon=True)
    thread.start()
    yield server.getsockname()[1], accepted
    stop.set()
    thread.join(2)
    server.close()


def _resolver(table: dict[str, list[str]]):
    return lambda host, port: table[host]


@pytest.mark.parametrize("host", ["0x7f.1", "127.1", "0177.0.0.1", "2130706433", "2130706433.", "localhost",
                                  "localhost.", "LOCALHOST", "[::ffff:127.0.0.1]", "[::1]", "0"])
def test_loopback_in_any_spelling_is_refused_before_git_connects(tmp_path, listener, host):
    port, accepted = listener
    settings = DocsSettings(cache_dir=tmp_path / "cache", timeout_s=10)  # the system resolver
    with pytest.raises(DocumentError, match="not public|loopback|unspecified|private|not a valid"):
        read_documents(Document(f"https://{host}:{port}/docs.git", COMMIT, ("*.md",)), settings)
    assert accepted == []


@pytest.mark.parametrize("answers", [["127.0.0.1"], ["::1"], [PUBLIC, "127.0.0.1"], ["169.254.169.254"],
                                     ["10.0.0.7"], ["::ffff:127.0.0.1"], ["224.0.0.1"]])
def test_a_name_that_resolves_inside_is_refused_at_connect_time(tmp_path, listener, answers):
    port, accepted = listener
    settings = DocsSettings(cache_dir=tmp_path / "cache", timeout_s=10,
                            resolver=_resolver({"docs.example.org": answers}))
    with pytest.raises(DocumentError, match="resolves to a"):
        read_documents(Document(f"https://docs.example.org:{port}/docs.git", COMMIT, ("*.md",)), settings)
    assert accepted == []


def test_git_is_pinned_to_the_checked_addresses_and_follows_no_redirect():
    options = _pinned("https://docs.example.org/docs.git", _resolver({"docs.example.org": [PUBLIC, "2606:2800::1"]}))
    assert f"http.curloptResolve=docs.example.org:443:{PUBLIC},[2606:2800::1]" in options
    assert "http.followRedirects=false" in options and "protocol.file.allow=never" in options


def test_git_config_from_the_environment_and_home_is_ignored(tmp_path, monkeypatch):
    real, commit = make_doc_repo(tmp_path / "real")
    decoy = tmp_path / "decoy"  # an empty repository: the commit is not there
    subprocess.run(["git", "init", "-q", str(decoy)], check=True, capture_output=True)
    rule = (f"url.{decoy.as_uri()}.insteadOf", real.as_uri())
    monkeypatch.setenv("GIT_CONFIG_COUNT", "1")
    monkeypatch.setenv("GIT_CONFIG_KEY_0", rule[0])
    monkeypatch.setenv("GIT_CONFIG_VALUE_0", rule[1])
    (tmp_path / "home").mkdir()
    (tmp_path / "home" / ".gitconfig").write_text(f'[url "{decoy.as_uri()}"]\n\tinsteadOf = {real.as_uri()}\n')
    monkeypatch.setenv("HOME", str(tmp_path / "home"))
    settings = DocsSettings(cache_dir=tmp_path / "cache", allow_local=True)
    assert read_documents(Document(real.as_uri(), commit, ("*.md",)), settings) == [("mars.md", MARS_DOC)]


def test_a_repository_larger_than_the_fetch_cap_is_stopped(tmp_path):
    repo, _ = make_doc_repo(tmp_path / "repo")
    (repo / "big.md").write_text(base64.b64encode(os.urandom(3_000_000)).decode())
    env = {"GIT_AUTHOR_NAME": "t", "GIT_AUTHOR_EMAIL": "t@e.org", "GIT_COMMITTER_NAME": "t",
           "GIT_COMMITTER_EMAIL": "t@e.org", "HOME": str(repo), "PATH": "/usr/bin:/bin"}
    for cmd in (["add", "."], ["commit", "-q", "-m", "big"]):
        subprocess.run(["git", *cmd], cwd=repo, check=True, env=env)
    commit = subprocess.run(["git", "rev-parse", "HEAD"], cwd=repo, check=True, capture_output=True, text=True,
                            env=env).stdout.strip()
    settings = DocsSettings(cache_dir=tmp_path / "cache", allow_local=True, max_fetch_bytes=1_000_000)
    with pytest.raises(DocumentError, match="more than 1,000,000 bytes"):
        read_documents(Document(str(repo), commit, ("*.md",)), settings)
    assert not list((tmp_path / "cache").rglob("big.md"))  # nothing half-fetched is left behind


def test_pull_requests_never_get_local_documents_even_with_the_setting(tmp_path):
    repo, commit = make_doc_repo(tmp_path / "repo")
    env = {"ARBORIST_ALLOW_LOCAL_DOCS": "1", "ARBORIST_DOCS_CACHE": str(tmp_path / "cache")}
    assert DocsSettings.from_env(env).allow_local is True
    with pytest.raises(DocumentError, match="is local"):
        read_documents(Document(str(repo), commit, ("*.md",)), DocsSettings.for_pull_requests(env))


def test_an_operator_mirror_serves_a_public_url_from_disk_without_dns(tmp_path):
    repo, commit = make_doc_repo(tmp_path / "repo")
    mirrors = parse_mirrors(f"https://github.com/org/docs={repo.as_uri()} junk http://x=y")
    assert mirrors == (("https://github.com/org/docs", repo.as_uri()),)

    def no_dns(host, port):
        raise AssertionError("a mirrored URL needs no resolution")

    settings = DocsSettings(cache_dir=tmp_path / "cache", mirrors=mirrors, resolver=no_dns)
    assert read_documents(Document("https://github.com/org/docs", commit, ("*.md",)), settings)[0][0] == "mars.md"


def test_a_git_that_hangs_is_stopped_at_the_deadline(tmp_path, monkeypatch):
    import time

    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    (bin_dir / "git").write_text("#!/bin/sh\nsleep 30\n")  # a stalled server looks like this from here
    (bin_dir / "git").chmod(0o755)
    monkeypatch.setenv("PATH", f"{bin_dir}:{os.environ['PATH']}")
    repo, commit = make_doc_repo(tmp_path / "repo")
    settings = DocsSettings(cache_dir=tmp_path / "cache", allow_local=True, timeout_s=1)
    started = time.monotonic()
    with pytest.raises(DocumentError, match="longer than 1 s"):
        read_documents(Document(str(repo), commit, ("*.md",)), settings)
    assert time.monotonic() - started < 5
