"""The quants live in `<repo>-GGUF`: lab pull --format gguf --quant fetches and verifies one, lab chat answers with it."""

from __future__ import annotations

import json
from datetime import UTC, datetime

import pytest

from lab.cli import main as lab_main
from lab.consume.hub import PullError, pull
from lab.publish import DirectoryTarget, HubTarget, ReleaseInfo, publish_release
from lab.publish.card import parse_front_matter
from sandbox.standins.hub import HubStandIn
from tests.lab.consume.trained import ANSWER, QUESTION, train_tiny_answerer

TOKEN = "hf_FAKEtwinToken1234567890"
REPO = "acme/answerer"
TWIN = "acme/answerer-GGUF"


@pytest.fixture(scope="module")
def trained_dir(tmp_path_factory):
    return train_tiny_answerer(tmp_path_factory.mktemp("trained"))


def _info(sha: str, **extra) -> ReleaseInfo:
    return ReleaseInfo(taxonomy_repo="acme/taxonomy", taxonomy_sha=sha, base_model="acme/tiny",
                       check_prompt=QUESTION, date=datetime(2026, 11, 25, 9, 0, tzinfo=UTC), **extra)


@pytest.fixture(scope="module")
def published(trained_dir):
    from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
    from cryptography.hazmat.primitives.serialization import Encoding, NoEncryption, PrivateFormat
    from huggingface_hub import HfApi

    key = Ed25519PrivateKey.generate().private_bytes(Encoding.PEM, PrivateFormat.PKCS8, NoEncryption()).decode()
    with HubStandIn(token=TOKEN) as hub, pytest.MonkeyPatch.context() as patch:
        patch.setenv("ARBORIST_SIGNING_KEY", key)  # signed, so that --verify can check it
        result = publish_release(trained_dir, HubTarget(REPO, HfApi(endpoint=hub.url, token=TOKEN)),
                                 _info("c" * 40, gguf_types=("f16", "Q4_K_M", "Q8_0")))
        patch.delenv("ARBORIST_SIGNING_KEY")
        yield hub, result


def test_the_twin_card_points_at_the_release_and_lists_each_quant_with_its_measured_answer(published):
    hub, release = published
    files = hub.files(TWIN, release.tag)
    meta = parse_front_matter(files["README.md"].decode())
    assert meta["base_model"] == REPO and meta["base_model_relation"] == "quantized"
    record = json.loads(files["release.json"])
    assert record["tag"] == release.tag and record["taxonomy_sha"] == "c" * 40
    by_quant = {q["quant"]: q for q in record["quants"]}
    assert set(by_quant) == {"f16", "Q4_K_M", "Q8_0"}
    card = files["README.md"].decode()
    for quant in by_quant.values():
        assert quant["size"] == len(files[quant["name"]])
        assert quant["answer"] == ANSWER  # the tiny model keeps its trained answer in every quant
        assert f"| `{quant['name']}` | {quant['quant']} |" in card
    main_meta = parse_front_matter(hub.files(REPO, release.tag)["README.md"].decode())
    assert main_meta["base_model"] == "acme/tiny" and main_meta["base_model_relation"] == "finetune"


@pytest.mark.slow
def test_lab_pull_verifies_a_quant_from_the_twin_and_lab_chat_answers_with_it(published, tmp_path, capsys,
                                                                                monkeypatch):
    hub, release = published
    monkeypatch.setenv("HF_TOKEN", TOKEN)
    cache = str(tmp_path / "cache")
    assert lab_main(["pull", REPO, "--format", "gguf", "--quant", "Q4_K_M", "--verify", "--endpoint", hub.url,
                     "--cache-dir", cache]) == 0
    gguf_file = capsys.readouterr().out.strip()
    assert gguf_file.endswith("answerer-Q4_K_M.gguf") and "models--acme--answerer-GGUF" in gguf_file
    assert lab_main(["chat", REPO, "--format", "gguf", "--quant", "Q4_K_M", "--endpoint", hub.url,
                     "--cache-dir", cache, "--prompt", QUESTION, "--max-tokens", "24"]) == 0
    assert capsys.readouterr().out.strip().splitlines()[-1] == ANSWER
    # q8_0 crashed llama.cpp's repacked (AMX) CPU buffers here; chat loads it with plain buffers
    assert lab_main(["chat", REPO, "--format", "gguf", "--quant", "q8_0", "--endpoint", hub.url,
                     "--cache-dir", cache, "--prompt", QUESTION, "--max-tokens", "24"]) == 0
    assert capsys.readouterr().out.strip().splitlines()[-1] == ANSWER


def test_a_damaged_quant_fails_the_verified_pull_loudly(published, tmp_path):
    hub, release = published
    hub.corrupt(TWIN, "answerer-Q4_K_M.gguf")
    try:
        with pytest.raises(PullError, match="answerer-Q4_K_M.gguf"):
            pull(REPO, release.tag, "gguf", endpoint=hub.url, token=TOKEN, cache_dir=tmp_path / "c",
                 quant="Q4_K_M", verify=True)
    finally:
        hub.heal(TWIN, "answerer-Q4_K_M.gguf")


def test_verify_refuses_a_file_the_release_does_not_list(trained_dir, tmp_path):
    root = tmp_path / "airgap"
    result = publish_release(trained_dir, DirectoryTarget(root), _info("e" * 40, gguf_types=("f16",)))
    folder = root / "releases" / result.tag
    (folder / "extra.gguf").write_bytes(b"GGUF slipped in")
    assert pull(str(root)) == folder  # listed files all match: a plain pull accepts it
    with pytest.raises(PullError, match="extra.gguf: is not listed in release.json"):  # before the signature
        pull(str(root), verify=True)
