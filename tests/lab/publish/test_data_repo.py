"""A release's synthetic data goes to `<repo>-data` (same tag) with a dataset card that carries its lineage."""

from __future__ import annotations

import json
from datetime import UTC, datetime

import pytest

from lab.publish import HubTarget, LeafChange, PublishError, ReleaseInfo, publish_release
from lab.publish.card import parse_front_matter
from sandbox.standins.hub import HubStandIn

TOKEN = "hf_FAKEdataToken1234567890ab"
REPO = "acme/taxonomy-model"
DATA = "acme/taxonomy-model-data"
GGUF = "acme/taxonomy-model-GGUF"
LEAF = "compositional_skills/linguistics/synonyms/qna.yaml"


@pytest.fixture(scope="module")
def generated(tmp_path_factory):
    """A real `lab generate` output folder (scripted teacher): manifest, merged files, one file per leaf."""
    from lab.generate import GenerateParams, ScriptedBackend, generate_leaves
    from lab.taxonomy.leaf import leaf_from_yaml
    from tests.lab.generate.conftest import FREEFORM

    out = tmp_path_factory.mktemp("generated") / "data"
    generate_leaves([leaf_from_yaml(LEAF, FREEFORM)], ScriptedBackend(), out, GenerateParams(samples=3),
                    cache_dir=out.parent / "cache")
    return out


@pytest.fixture()
def hub(monkeypatch):
    monkeypatch.setenv("HF_TOKEN", TOKEN)
    with HubStandIn(token=TOKEN) as server:
        yield server


def _target(hub) -> HubTarget:
    from huggingface_hub import HfApi

    return HubTarget(REPO, HfApi(endpoint=hub.url, token=TOKEN))


def _info(sha: str, generated, previous: str | None = None) -> ReleaseInfo:
    return ReleaseInfo(taxonomy_repo="acme/taxonomy", taxonomy_sha=sha, previous_taxonomy_sha=previous,
                       leaves=[LeafChange(LEAF, "added", 12, "https://github.com/acme/taxonomy/pull/12")],
                       attributions={"knowledge/x": "Title of work: Synonyms\nLicense: CC BY 4.0"},
                       base_model="acme/tiny-base", data_dir=str(generated), gguf_types=("f16",),
                       date=datetime(2026, 11, 25, tzinfo=UTC))


def test_the_data_lands_in_a_dataset_repo_with_the_same_tag_and_its_lineage(hub, tiny_llama_dir, generated):
    result = publish_release(tiny_llama_dir, _target(hub), _info("a" * 40, generated, previous="9" * 40))
    assert result.repos == {"gguf": GGUF, "data": DATA, "model": REPO}
    files = hub.files(DATA, result.tag, repo_type="dataset")
    manifest = json.loads((generated / "manifest.json").read_text())
    assert files["manifest.json"] == (generated / "manifest.json").read_bytes()
    assert files["data/skills_train_msgs.jsonl"] == (generated / "skills_train_msgs.jsonl").read_bytes()
    assert any(name.startswith("leaves/") for name in files)
    card = files["README.md"].decode()
    leaf = manifest["leaves"][0]
    assert f"/compare/{'9' * 40}...{'a' * 40}" in card  # the taxonomy commit range
    assert "[#12](https://github.com/acme/taxonomy/pull/12)" in card and leaf["leaf_hash"][:16] in card
    assert f"| {leaf['rows']:,} | {leaf['attempted']:,} |" in card
    assert manifest["teacher"] in card and manifest["prompt_version"] in card
    assert "Title of work: Synonyms" in card
    rai = json.loads(files["croissant_rai.json"])
    assert rai["rai:hasSyntheticData"] is True and rai["rai:dataCollectionType"] == ["Synthetic"]
    record = json.loads(files["release.json"])
    assert record["tag"] == result.tag and set(record["checksums"]) == set(files) - {"release.json", ".gitattributes"}
    model_meta = parse_front_matter(hub.files(REPO, result.tag)["README.md"].decode())
    assert model_meta["datasets"] == [DATA]


@pytest.mark.parametrize("failing", [1, 2, 3], ids=["gguf-repo", "data-repo", "model-repo"])
def test_a_failure_in_any_of_the_three_repos_leaves_every_previous_release_intact(hub, tiny_llama_dir, generated,
                                                                                   failing):
    first = publish_release(tiny_llama_dir, _target(hub), _info("a" * 40, generated))
    keys = {REPO: REPO, GGUF: GGUF, DATA: f"datasets/{DATA}"}
    before = {key: (dict(hub.state.repos[key].tags), hub.state.repos[key].resolve(first.tag).files)
              for key in keys.values()}
    hub.fail_commit(failing)  # upload order: GGUF twin, data, then the model repo
    with pytest.raises(PublishError, match="previous release left as it was"):
        publish_release(tiny_llama_dir, _target(hub), _info("b" * 40, generated, previous="a" * 40))
    for key, (tags, files) in before.items():
        assert hub.state.repos[key].tags == tags and hub.state.repos[key].resolve(first.tag).files == files
    assert hub.state.repos[REPO].branches["main"] == first.commit_sha

    second = publish_release(tiny_llama_dir, _target(hub), _info("b" * 40, generated, previous="a" * 40))
    for key in keys.values():
        repo = hub.state.repos[key]
        assert repo.tags[second.tag] == repo.branches["main"]
    again = publish_release(tiny_llama_dir, _target(hub), _info("b" * 40, generated, previous="a" * 40))
    assert again.skipped


def test_a_data_folder_without_a_manifest_stops_the_release_before_any_upload(hub, tiny_llama_dir, tmp_path):
    (tmp_path / "skills_train_msgs.jsonl").write_text("{}\n")
    with pytest.raises(PublishError, match="nothing was uploaded: .* holds no manifest.json"):
        publish_release(tiny_llama_dir, _target(hub), _info("c" * 40, tmp_path))
    assert hub.state.commit_requests == 0
