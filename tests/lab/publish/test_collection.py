"""Each model line has one Hub collection (model, GGUF, data repositories) noting its latest release."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from lab.cli import main as lab_main
from lab.publish import HubTarget, ReleaseInfo, publish_release
from sandbox.standins.hub import HubStandIn

TOKEN = "hf_FAKEcollectionToken12345"
REPO = "acme/line-model"


def _info(sha: str, accuracy: float) -> ReleaseInfo:
    return ReleaseInfo(taxonomy_repo="acme/taxonomy", taxonomy_sha=sha, gguf_types=("f16",),
                       evaluation={"accuracy": {"value": accuracy, "ci": [accuracy - 0.1, accuracy + 0.1]}},
                       date=datetime(2026, 11, 25, tzinfo=UTC))


@pytest.fixture()
def hub(monkeypatch):
    monkeypatch.setenv("HF_TOKEN", TOKEN)
    with HubStandIn(token=TOKEN) as server:
        yield server


def test_releases_of_a_line_share_one_collection_whose_note_names_the_latest(hub, tiny_llama_dir, capsys, tmp_path):
    from huggingface_hub import HfApi

    target = HubTarget(REPO, HfApi(endpoint=hub.url, token=TOKEN))
    first = publish_release(tiny_llama_dir, target, _info("a" * 40, 0.5))
    second = publish_release(tiny_llama_dir, target, _info("b" * 40, 0.6))
    again = publish_release(tiny_llama_dir, target, _info("b" * 40, 0.6))
    assert again.skipped and first.collection == second.collection == again.collection != ""
    [collection] = hub.state.collections.values()
    assert collection["title"] == "line-model releases" and collection["owner"] == "acme"
    assert [(i["type"], i["id"]) for i in collection["items"]] == [("model", REPO), ("model", f"{REPO}-GGUF")]
    note = collection["items"][0]["note"]["text"]
    assert second.tag in note and "bbbbbbbbbbbb" in note and "accuracy 0.600" in note

    assert lab_main(["releases", REPO, "--endpoint", hub.url, "--cache-dir", str(tmp_path / "c")]) == 0
    out = capsys.readouterr().out
    assert "Collection line-model releases:" in out and f"{REPO}-GGUF" in out and second.tag in out
