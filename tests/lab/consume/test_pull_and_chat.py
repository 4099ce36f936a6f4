"""A consumer pulls a published release by tag and gets the trained answer from transformers and llama.cpp."""

from __future__ import annotations

import json
from datetime import UTC, datetime

import pytest

from lab.cli import main as lab_main
from lab.consume.chat import LlamaCppChat, TransformersChat, chat_loop, find_gguf
from lab.consume.hub import PullError, list_releases, pull
from lab.publish import DirectoryTarget, HubTarget, ReleaseInfo, publish_release
from sandbox.standins.hub import HubStandIn
from tests.lab.consume.trained import ANSWER, QUESTION, train_tiny_answerer

TOKEN = "hf_FAKEconsumerToken987654321"
REPO = "acme/answerer"


@pytest.fixture(scope="module")
def trained_dir(tmp_path_factory):
    return train_tiny_answerer(tmp_path_factory.mktemp("trained"))


def _info(sha: str, accuracy: float) -> ReleaseInfo:
    return ReleaseInfo(taxonomy_repo="acme/taxonomy", taxonomy_sha=sha, base_model="acme/tiny",
                       evaluation={"accuracy": {"value": accuracy, "ci": [accuracy - 0.05, accuracy + 0.05]}},
                       date=datetime(2026, 11, 25, 9, 0, tzinfo=UTC))


@pytest.fixture()
def published(trained_dir):
    from huggingface_hub import HfApi

    with HubStandIn(token=TOKEN) as hub:
        result = publish_release(trained_dir, HubTarget(REPO, HfApi(endpoint=hub.url, token=TOKEN)),
                                 _info("c" * 40, 0.75))
        yield hub, result


@pytest.mark.slow
def test_pulled_release_answers_the_trained_question_in_both_formats(published, tmp_path):
    hub, release = published
    cache = tmp_path / "hf-cache"
    hf_path = pull(REPO, release.tag, "hf", endpoint=hub.url, token=TOKEN, cache_dir=cache)
    assert str(hf_path).startswith(str(cache)) and (hf_path / "model.safetensors").is_file()
    assert not list(hf_path.glob("*.gguf"))  # allow_patterns fetched only what the format needs
    gguf_path = pull(REPO, release.tag, "gguf", endpoint=hub.url, token=TOKEN, cache_dir=cache)
    assert [p.name for p in gguf_path.glob("*.gguf")] == ["answerer-f16.gguf"]  # not the q8_0 one

    question = [{"role": "user", "content": QUESTION}]
    assert TransformersChat(hf_path, max_tokens=24).reply(question) == ANSWER
    assert LlamaCppChat(find_gguf(gguf_path, "f16"), max_tokens=24).reply(question) == ANSWER


@pytest.mark.slow
def test_lab_pull_then_lab_chat_work_and_offline_mode_uses_the_cache(published, tmp_path, capsys, monkeypatch):
    hub, release = published
    monkeypatch.setenv("HF_TOKEN", TOKEN)
    cache = str(tmp_path / "cache")
    assert lab_main(["pull", REPO, "--release", release.tag, "--format", "gguf", "--endpoint", hub.url,
                     "--cache-dir", cache]) == 0
    gguf_file = capsys.readouterr().out.strip()
    assert gguf_file.endswith("answerer-f16.gguf")
    assert lab_main(["chat", gguf_file, "--prompt", QUESTION, "--max-tokens", "24"]) == 0
    assert capsys.readouterr().out.strip() == ANSWER

    assert lab_main(["chat", REPO, "--release", release.tag, "--endpoint", hub.url, "--cache-dir", cache,
                     "--prompt", QUESTION, "--max-tokens", "24"]) == 0  # a repo id: pulled (hf), then chat
    assert capsys.readouterr().out.strip().splitlines()[-1] == ANSWER

    hub.stop()  # the Hub goes away: the cache still serves the pulled release
    assert lab_main(["pull", REPO, "--release", release.tag, "--format", "gguf", "--cache-dir", cache,
                     "--endpoint", hub.url, "--offline"]) == 0
    assert capsys.readouterr().out.strip() == gguf_file
    assert lab_main(["pull", REPO, "--release", "v-never", "--cache-dir", cache, "--offline"]) == 1
    assert "not in the cache" in capsys.readouterr().err


def test_releases_lists_tags_with_taxonomy_commit_and_headline(published, trained_dir, tmp_path, capsys):
    hub, first = published
    from huggingface_hub import HfApi

    second = publish_release(trained_dir, HubTarget(REPO, HfApi(endpoint=hub.url, token=TOKEN)),
                             _info("d" * 40, 0.8))
    rows = list_releases(REPO, endpoint=hub.url, token=TOKEN, cache_dir=tmp_path / "c")
    assert sorted(r.tag for r in rows) == sorted([first.tag, second.tag])
    by_tag = {r.tag: r for r in rows}
    assert by_tag[second.tag].taxonomy_sha == "d" * 40
    assert by_tag[second.tag].headline["value"] == 0.8
    assert lab_main(["releases", REPO, "--endpoint", hub.url, "--cache-dir", str(tmp_path / "c"), "--json"]) == 0
    listed = json.loads(capsys.readouterr().out)
    assert {row["tag"] for row in listed} == {first.tag, second.tag}
    assert lab_main(["releases", REPO, "--endpoint", hub.url, "--cache-dir", str(tmp_path / "c")]) == 0
    table = capsys.readouterr().out
    assert second.tag in table and "dddddddddddd" in table and "accuracy 0.800 [0.750, 0.850]" in table


def test_pull_of_an_unknown_tag_says_which_command_lists_releases(published, tmp_path):
    hub, _ = published
    with pytest.raises(PullError, match="lab releases"):
        pull(REPO, "v1999.01.01-deadbee", endpoint=hub.url, token=TOKEN, cache_dir=tmp_path / "c")


def test_directory_releases_can_be_pulled_and_listed_without_a_hub(trained_dir, tmp_path):
    root = tmp_path / "airgap"
    result = publish_release(trained_dir, DirectoryTarget(root), _info("e" * 40, 0.7))
    assert pull(str(root)) == root / "releases" / result.tag
    assert [r.tag for r in list_releases(str(root))] == [result.tag]
    with pytest.raises(PullError, match="no release"):
        pull(str(root), "v0")


def test_chat_loop_keeps_history_resets_and_quits():
    seen: list[list[dict]] = []

    class Echo:
        def reply(self, messages):
            seen.append(list(messages))
            return f"turn {len([m for m in messages if m['role'] == 'user'])}"

    out: list[str] = []
    turns = chat_loop(Echo(), ["hi", "", "again", "/reset", "fresh", "/exit", "never"], out.append, system="be brief")
    assert turns == 3
    assert out == ["turn 1", "turn 2", "(conversation reset)", "turn 1"]
    assert seen[1][0] == {"role": "system", "content": "be brief"} and len(seen[1]) == 4
