"""Damaged and malformed releases get one clear line, never a traceback, and a damaged download is never used."""

from __future__ import annotations

import json
import shutil

import pytest

from lab.cli import main as lab_main
from lab.consume.hub import PullError, pull
from sandbox.standins.hub import HubStandIn

TOKEN = "hf_FAKEhostileRelease0123456789"
REPO = "acme/hostile"
WEIGHTS = b"\x00\x01\x02\x03" * 5000  # an LFS file on the Hub (.safetensors)
RECORD = {"version": 1, "tag": "v1", "date": "2026-11-25T09:00:00+00:00", "taxonomy_sha": "a" * 40,
          "headline": {"name": "rouge_l", "value": 0.5, "ci": [0.4, 0.6]}}


def _upload(hub: HubStandIn, files: dict[str, bytes], tag: str = "v1") -> None:
    from huggingface_hub import CommitOperationAdd, HfApi

    api = HfApi(endpoint=hub.url, token=TOKEN)
    api.create_repo(REPO, exist_ok=True)
    commit = api.create_commit(REPO, [CommitOperationAdd(p, data) for p, data in files.items()],
                               commit_message=f"release {tag}")
    api.create_tag(REPO, tag=tag, revision=commit.oid)


@pytest.fixture()
def hub():
    with HubStandIn(token=TOKEN) as server:
        yield server


def _release(hub: HubStandIn, **extra: bytes) -> None:
    _upload(hub, {"model.safetensors": WEIGHTS, "config.json": b"{}", "release.json": json.dumps(RECORD).encode(),
                  **extra})


@pytest.mark.parametrize("damage", ["flipped", "truncated"])
def test_pull_refuses_a_file_the_hub_serves_damaged_then_fetches_it_again_once_repaired(hub, tmp_path, capsys, damage):
    _release(hub)
    hub.corrupt(REPO, "model.safetensors", None if damage == "flipped" else WEIGHTS[:1000])
    argv = ["pull", REPO, "--release", "v1", "--endpoint", hub.url, "--cache-dir", str(tmp_path / "cache")]
    assert lab_main(argv) == 1
    captured = capsys.readouterr()
    last = captured.err.strip().splitlines()[-1]  # after huggingface_hub's progress bar
    assert captured.out == "" and "Traceback" not in captured.err
    assert last.startswith("lab pull: ") and "model.safetensors" in last
    hub.heal(REPO, "model.safetensors")  # the damaged copy was not kept: the next pull fetches it again
    assert lab_main(argv) == 0
    folder = capsys.readouterr().out.strip()
    assert open(f"{folder}/model.safetensors", "rb").read() == WEIGHTS


def test_pull_checks_a_regular_file_against_its_git_blob_id(hub, tmp_path):
    _release(hub)
    hub.corrupt(REPO, "config.json", b'{"x": 1}')
    with pytest.raises(PullError, match=r"config.json: git blob id .* but the Hub gives"):
        pull(REPO, "v1", endpoint=hub.url, token=TOKEN, cache_dir=tmp_path / "cache")


def test_pull_checks_the_sizes_and_hashes_release_json_lists(hub, tmp_path):
    import hashlib

    listed = {"model.safetensors": {"size": len(WEIGHTS), "sha256": hashlib.sha256(b"other").hexdigest()}}
    _upload(hub, {"model.safetensors": WEIGHTS, "release.json": json.dumps({**RECORD, "checksums": listed}).encode()})
    with pytest.raises(PullError, match=r"model.safetensors: sha256 .* but release.json lists"):
        pull(REPO, "v1", endpoint=hub.url, token=TOKEN, cache_dir=tmp_path / "cache")


@pytest.mark.parametrize("headline", ["great", {"name": "rouge_l", "value": "high"}, {"value": 1, "ci": "wide"}])
def test_releases_with_a_malformed_headline_name_the_release_and_the_field(hub, tmp_path, capsys, headline):
    _release(hub)
    _upload(hub, {"release.json": json.dumps({**RECORD, "tag": "v2", "headline": headline}).encode()}, tag="v2")
    assert lab_main(["releases", REPO, "--endpoint", hub.url, "--cache-dir", str(tmp_path / "c")]) == 1
    captured = capsys.readouterr()
    assert "v1" in captured.out and "rouge_l 0.500" in captured.out  # the good release is still listed
    assert "invalid release.json" in captured.out
    assert captured.err.startswith("lab releases: release v2: release.json: headline")
    assert len(captured.err.strip().splitlines()) == 1


def test_releases_in_a_directory_with_a_record_that_is_not_json_are_listed_with_the_reason(tmp_path, capsys):
    for tag, body in (("v1", json.dumps(RECORD)), ("v2", "[" * 100_000)):
        (tmp_path / "releases" / tag).mkdir(parents=True)
        (tmp_path / "releases" / tag / "release.json").write_text(body)
    assert lab_main(["releases", str(tmp_path), "--json"]) == 1
    rows = {row["tag"]: row for row in json.loads(capsys.readouterr().out)}
    assert rows["v1"]["headline"]["value"] == 0.5 and "nested too deeply" in rows["v2"]["problem"]


def test_pull_gguf_takes_the_only_gguf_whatever_its_name_and_lists_candidates_when_several(hub, tmp_path, capsys):
    _release(hub, **{"my-model.Q4_K_M.gguf": b"GGUF" + b"\x00" * 64})
    base = ["pull", REPO, "--release", "v1", "--endpoint", hub.url, "--cache-dir", str(tmp_path / "c"),
            "--format", "gguf"]
    assert lab_main(base) == 0
    assert capsys.readouterr().out.strip().endswith("/my-model.Q4_K_M.gguf")
    _upload(hub, {"a-q8_0.gguf": b"GGUF1", "b-q4_0.gguf": b"GGUF2", "release.json": b"{}"}, tag="v2")
    assert lab_main([*base[:3], "v2", *base[4:]]) == 1
    err = capsys.readouterr().err
    assert "a-q8_0.gguf" in err and "b-q4_0.gguf" in err and "--quant" in err
    assert lab_main([*base[:3], "v2", *base[4:], "--quant", "q4_0"]) == 0
    assert capsys.readouterr().out.strip().endswith("/b-q4_0.gguf")


def test_lab_chat_on_a_truncated_safetensors_says_which_model_in_one_line(tiny_llama_dir, tmp_path, capsys):
    model = tmp_path / "model"
    shutil.copytree(tiny_llama_dir, model)
    weights = model / "model.safetensors"
    weights.write_bytes(weights.read_bytes()[: weights.stat().st_size // 2])
    assert lab_main(["chat", str(model), "--prompt", "hello", "--max-tokens", "2"]) == 1
    err = capsys.readouterr().err.strip()
    assert err.startswith(f"lab chat: cannot load {model}") and "truncated or corrupt" in err
    assert len(err.splitlines()) == 1
