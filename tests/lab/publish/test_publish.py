"""Publishing a release to the Hub stand-in and to a directory: layout, card, idempotence, atomicity, secrets."""

from __future__ import annotations

import json
import logging
from dataclasses import replace
from datetime import UTC, datetime

import pytest

from lab.publish import DirectoryTarget, HubTarget, LeafChange, PublishError, ReleaseInfo, publish_release
from lab.publish.card import REQUIRED_METADATA, parse_front_matter
from lab.publish.release import DEFAULT_GGUF_TYPES
from sandbox.standins.hub import HubStandIn

TOKEN = "hf_FAKEtokenArborist0123456789"
REPO = "acme/taxonomy-model"
GGUF_REPO = "acme/taxonomy-model-GGUF"
SHA1 = "1" * 40
SHA2 = "2" * 40
MODEL_FILES = {"model.safetensors", "config.json", "generation_config.json", "tokenizer.json",
               "tokenizer_config.json", "chat_template.jinja", "README.md", "release.json"}
GGUF_FILES = {"taxonomy-model-f16.gguf", "taxonomy-model-Q4_K_M.gguf", "taxonomy-model-Q5_K_M.gguf",
              "taxonomy-model-Q8_0.gguf", "README.md", "release.json"}
RELEASE_FILES = MODEL_FILES | {"taxonomy-model-f16.gguf"}  # a directory release holds weights and GGUFs


def _info(sha: str, previous: str | None = None, accuracy: float = 0.6, **extra) -> ReleaseInfo:
    extra.setdefault("gguf_types", ("f16",))  # each GGUF is run once: the quants only where a test needs them
    return ReleaseInfo(
        taxonomy_repo="acme/taxonomy", taxonomy_sha=sha, previous_taxonomy_sha=previous,
        leaves=[LeafChange("knowledge/astronomy/planets/qna.yaml", "added", 41,
                           "https://github.com/acme/taxonomy/pull/41")],
        data_counts={"knowledge": 1200, "skills": 300},
        generation_params={"teacher": "tiny.gguf", "num_instructions": 5},
        training_params={"method": "lora", "epochs": 2},
        evaluation={"metrics": {"accuracy": {"value": accuracy, "ci": [accuracy - 0.1, accuracy + 0.1],
                                             "baseline": 0.4}}},
        attributions={"knowledge/astronomy/planets": "Title of work: Planets\nLicense: CC BY-SA 4.0"},
        base_model="acme/tiny-base", date=datetime(2026, 11, 25, 9, 0, tzinfo=UTC), **extra)


@pytest.fixture()
def hub(monkeypatch):
    monkeypatch.setenv("HF_TOKEN", TOKEN)
    with HubStandIn(token=TOKEN) as server:
        yield server


def _target(hub) -> HubTarget:
    from huggingface_hub import HfApi

    return HubTarget(REPO, HfApi(endpoint=hub.url, token=TOKEN))


def test_release_lands_with_weights_card_and_tag_and_quants_in_the_gguf_twin(hub, tiny_llama_dir):
    result = publish_release(tiny_llama_dir, _target(hub), _info(SHA1, gguf_types=DEFAULT_GGUF_TYPES))
    assert result.tag == "v20261125-1111111" and not result.skipped
    assert result.repos == {"model": REPO, "gguf": GGUF_REPO}
    for repo_id in (REPO, GGUF_REPO):
        repo = hub.state.repos[repo_id]
        assert repo.tags[result.tag] == repo.branches["main"]
    assert hub.state.repos[REPO].tags[result.tag] == result.commit_sha
    files = hub.files(REPO, result.tag)
    assert set(files) - {".gitattributes"} == MODEL_FILES  # weights only: the GGUFs live in the twin
    assert files["model.safetensors"] == (tiny_llama_dir / "model.safetensors").read_bytes()
    quants = hub.files(GGUF_REPO, result.tag)
    assert set(quants) - {".gitattributes"} == GGUF_FILES
    assert all(quants[name][:4] == b"GGUF" for name in GGUF_FILES if name.endswith(".gguf"))
    card = files["README.md"].decode()
    meta = parse_front_matter(card)
    assert all(meta.get(key) for key in REQUIRED_METADATA)
    assert meta["base_model"] == "acme/tiny-base" and meta["base_model_relation"] == "finetune"
    assert GGUF_REPO in card
    metrics = meta["model-index"][0]["results"][0]["metrics"]
    assert metrics == [{"type": "accuracy", "name": "accuracy", "value": 0.6}]
    assert "[#41](https://github.com/acme/taxonomy/pull/41)" in card
    assert "Title of work: Planets" in card
    assert "| knowledge | 1,200 |" in card
    record = json.loads(files["release.json"])
    assert record["taxonomy_sha"] == SHA1 and record["headline"]["value"] == 0.6


def test_republishing_the_same_taxonomy_sha_changes_nothing(hub, tiny_llama_dir):
    first = publish_release(tiny_llama_dir, _target(hub), _info(SHA1))
    commits_before = len(hub.state.repos[REPO].commits)
    next_day = replace(_info(SHA1), date=datetime(2026, 11, 26, tzinfo=UTC))  # a later run, same taxonomy
    again = publish_release(tiny_llama_dir, _target(hub), next_day)
    assert again.skipped and again.tag == first.tag and again.commit_sha == first.commit_sha
    assert len(hub.state.repos[REPO].commits) == commits_before
    assert list(hub.state.repos[REPO].tags) == [first.tag]
    assert ("POST", f"/api/models/{REPO}/commit/main") not in hub.state.requests[-5:]


@pytest.mark.parametrize("failing", [1, 2], ids=["gguf-repo", "model-repo"])
def test_failed_upload_in_any_repo_leaves_previous_releases_intact_and_retry_finishes(hub, tiny_llama_dir, failing):
    first = publish_release(tiny_llama_dir, _target(hub), _info(SHA1))
    before = {repo_id: hub.files(repo_id, first.tag) for repo_id in (REPO, GGUF_REPO)}
    hub.fail_commit(failing)  # uploads go GGUF twin first, model repo last
    with pytest.raises(PublishError, match="previous release left as it was"):
        publish_release(tiny_llama_dir, _target(hub), _info(SHA2, previous=SHA1, accuracy=0.7))
    repo = hub.state.repos[REPO]
    assert repo.branches["main"] == first.commit_sha  # `lab pull` still reads the first release as latest
    for repo_id, files in before.items():
        assert list(hub.state.repos[repo_id].tags) == [first.tag]
        assert hub.files(repo_id, first.tag) == files
    twin_commits = len(hub.state.repos[GGUF_REPO].commits)

    second = publish_release(tiny_llama_dir, _target(hub), _info(SHA2, previous=SHA1, accuracy=0.7))
    assert second.tag == "v20261125-2222222" and repo.branches["main"] == second.commit_sha
    twin = hub.state.repos[GGUF_REPO]
    assert twin.tags[second.tag] == twin.branches["main"]
    assert len(twin.commits) == twin_commits + (1 if failing == 1 else 0)  # an uploaded twin is not sent again
    card = hub.files(REPO)["README.md"].decode()
    assert f"/compare/{SHA1}...{SHA2}" in card
    assert "| accuracy | 0.700 | [0.600, 0.800] | 0.600 | +0.100 | 0.400 |" in card
    record = json.loads(hub.files(REPO)["release.json"])
    assert record["history"][0]["tag"] == first.tag
    # The earlier release is still whole at its tag.
    assert json.loads(hub.files(REPO, first.tag)["release.json"])["taxonomy_sha"] == SHA1


def test_files_dropped_from_a_release_are_deleted_on_main_only(hub, tiny_llama_dir):
    first = publish_release(tiny_llama_dir, _target(hub), _info(SHA1, gguf_types=("f16", "Q8_0")))
    publish_release(tiny_llama_dir, _target(hub), _info(SHA2, previous=SHA1, gguf_types=("f16",)))
    assert "taxonomy-model-Q8_0.gguf" not in hub.files(GGUF_REPO)
    assert "taxonomy-model-Q8_0.gguf" in hub.files(GGUF_REPO, first.tag)
    assert ".gitattributes" in hub.files(GGUF_REPO)


def test_token_never_appears_in_logs_errors_card_or_files(hub, tiny_llama_dir, caplog, capsys):
    caplog.set_level(logging.DEBUG)
    publish_release(tiny_llama_dir, _target(hub), _info(SHA1))
    hub.fail_commit(1)
    with pytest.raises(PublishError) as err:
        publish_release(tiny_llama_dir, _target(hub), _info(SHA2))
    captured = capsys.readouterr()
    assert TOKEN not in str(err.value)
    assert TOKEN not in caplog.text and TOKEN not in captured.out + captured.err
    assert all(TOKEN.encode() not in data for repo_id in (REPO, GGUF_REPO) for data in hub.files(repo_id).values())


def test_directory_target_has_the_same_layout_card_and_is_idempotent(tmp_path, tiny_llama_dir):
    root = tmp_path / "releases-mirror"
    result = publish_release(tiny_llama_dir, DirectoryTarget(root), _info(SHA1))
    folder = root / "releases" / result.tag
    assert {p.name for p in folder.iterdir()} == RELEASE_FILES  # named after the model, not the folder
    assert (root / "LATEST").read_text().strip() == result.tag
    assert parse_front_matter((folder / "README.md").read_text())["license"] == "apache-2.0"
    assert publish_release(tiny_llama_dir, DirectoryTarget(root), _info(SHA1)).skipped


def test_directory_target_failure_keeps_latest_and_leaves_no_partial_release(tmp_path, tiny_llama_dir,
                                                                             monkeypatch):
    from fsspec.implementations.local import LocalFileSystem

    root = tmp_path / "mirror"
    first = publish_release(tiny_llama_dir, DirectoryTarget(root), _info(SHA1))
    calls = {"n": 0}
    original = LocalFileSystem.put_file

    def flaky(self, *args, **kwargs):
        calls["n"] += 1
        if calls["n"] == 3:
            raise OSError("disk full")
        return original(self, *args, **kwargs)

    monkeypatch.setattr(LocalFileSystem, "put_file", flaky)
    with pytest.raises(PublishError, match="disk full"):
        publish_release(tiny_llama_dir, DirectoryTarget(root), _info(SHA2))
    assert (root / "LATEST").read_text().strip() == first.tag
    assert sorted(p.name for p in (root / "releases").iterdir()) == [first.tag]
