"""Signed releases: each release.json signed with the Ed25519 key from settings; lab pull --verify checks it."""

from __future__ import annotations

import base64
import json
from datetime import UTC, datetime

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from cryptography.hazmat.primitives.serialization import Encoding, NoEncryption, PrivateFormat, PublicFormat

from lab.cli import main as lab_main
from lab.consume.hub import PullError, pull
from lab.publish import HubTarget, PublishError, ReleaseInfo, publish_release
from lab.publish.signing import key_id
from sandbox.standins.hub import HubStandIn

TOKEN = "hf_FAKEsignToken1234567890ab"
REPO = "acme/signed-model"
TWIN = "acme/signed-model-GGUF"


def _pem(key: Ed25519PrivateKey) -> str:
    return key.private_bytes(Encoding.PEM, PrivateFormat.PKCS8, NoEncryption()).decode()


def _public_b64(key: Ed25519PrivateKey) -> str:
    return base64.b64encode(key.public_key().public_bytes(Encoding.Raw, PublicFormat.Raw)).decode()


def _info(sha: str, **extra) -> ReleaseInfo:
    return ReleaseInfo(taxonomy_repo="acme/taxonomy", taxonomy_sha=sha, date=datetime(2026, 11, 25, tzinfo=UTC),
                       **{"gguf_types": (), **extra})


@pytest.fixture()
def key(monkeypatch):
    private = Ed25519PrivateKey.generate()
    monkeypatch.setenv("ARBORIST_SIGNING_KEY", _pem(private))
    monkeypatch.delenv("ARBORIST_RELEASE_PUBLIC_KEY", raising=False)
    return private


@pytest.fixture()
def hub(monkeypatch):
    monkeypatch.setenv("HF_TOKEN", TOKEN)
    with HubStandIn(token=TOKEN) as server:
        yield server


def _target(hub) -> HubTarget:
    from huggingface_hub import HfApi

    return HubTarget(REPO, HfApi(endpoint=hub.url, token=TOKEN))


def test_every_repo_of_a_release_is_signed_and_a_verified_pull_names_the_key(key, hub, tiny_llama_dir, tmp_path,
                                                                              capsys, monkeypatch):
    result = publish_release(tiny_llama_dir, _target(hub), _info("a" * 40, gguf_types=("f16",)))
    expected = key_id(base64.b64decode(_public_b64(key)))
    assert result.signed_by == expected
    for repo_id in (REPO, TWIN):
        files = hub.files(repo_id, result.tag)
        record = json.loads(files["release.json"])
        assert record["signature"]["key_id"] == expected and "release.json.sig" in record["files"]
        assert set(record["checksums"]) == set(files) - {"release.json", "release.json.sig", ".gitattributes"}
    monkeypatch.setenv("ARBORIST_RELEASE_PUBLIC_KEY", _public_b64(key))  # the consumer pins the publisher's key
    assert lab_main(["pull", REPO, "--format", "gguf", "--verify", "--endpoint", hub.url,
                     "--cache-dir", str(tmp_path / "c")]) == 0
    out = capsys.readouterr()
    assert out.out.strip().endswith("signed-model-f16.gguf") and f"signed by key {expected}" in out.err
    assert _pem(key) not in out.out + out.err


def test_a_release_json_changed_after_signing_fails_the_verified_pull_loudly(key, hub, tiny_llama_dir, tmp_path):
    result = publish_release(tiny_llama_dir, _target(hub), _info("b" * 40))
    commit = hub.state.repos[REPO].resolve(result.tag)
    record = json.loads(commit.files["release.json"])
    record["taxonomy_sha"] = "f" * 40  # someone with write access, without the key, rewrites the record
    commit.files["release.json"] = json.dumps(record).encode()
    assert pull(REPO, result.tag, endpoint=hub.url, token=TOKEN, cache_dir=tmp_path / "a")  # hashes alone pass
    with pytest.raises(PullError, match="FAILED verification: the signature does not match release.json"):
        pull(REPO, result.tag, endpoint=hub.url, token=TOKEN, cache_dir=tmp_path / "b", verify=True)


def test_a_release_signed_by_another_key_than_the_pinned_one_is_refused(key, hub, tiny_llama_dir, tmp_path,
                                                                         monkeypatch):
    result = publish_release(tiny_llama_dir, _target(hub), _info("c" * 40))
    monkeypatch.setenv("ARBORIST_RELEASE_PUBLIC_KEY", _public_b64(Ed25519PrivateKey.generate()))
    with pytest.raises(PullError, match="not by the pinned key"):
        pull(REPO, result.tag, endpoint=hub.url, token=TOKEN, cache_dir=tmp_path / "c", verify=True)


def test_without_a_key_the_release_publishes_says_it_is_unsigned_and_cannot_be_verified(tiny_llama_dir, tmp_path,
                                                                                         monkeypatch, capsys):
    monkeypatch.delenv("ARBORIST_SIGNING_KEY", raising=False)
    root = tmp_path / "airgap"
    assert lab_main(["publish", str(tiny_llama_dir), "--dir", str(root), "--taxonomy-repo", "acme/taxonomy",
                     "--taxonomy-sha", "d" * 40, "--gguf", ""]) == 0
    assert "unsigned" in capsys.readouterr().out
    tag = (root / "LATEST").read_text().strip()
    assert json.loads((root / "releases" / tag / "release.json").read_text())["signature"] is None
    assert pull(str(root)) == root / "releases" / tag
    with pytest.raises(PullError, match="unsigned"):
        pull(str(root), verify=True)


def test_a_key_that_is_not_ed25519_stops_the_release_before_any_upload(hub, tiny_llama_dir, monkeypatch):
    monkeypatch.setenv("ARBORIST_SIGNING_KEY", "-----BEGIN PRIVATE KEY-----\nnot a key\n-----END PRIVATE KEY-----")
    with pytest.raises(PublishError, match="nothing was uploaded: ARBORIST_SIGNING_KEY is not"):
        publish_release(tiny_llama_dir, _target(hub), _info("e" * 40))
    assert hub.state.commit_requests == 0 and not hub.state.repos
