"""The Hub side of the contract suite.

There is one model of the Hub, the HTTP stand-in (sandbox.standins.hub); no in-memory Hub fake exists. So:
(1) the publisher's `Target` protocol is held to one behaviour across its two implementations, a Hub repository
(HubTarget over huggingface_hub's real HfApi, against the stand-in on loopback) and a release directory
(DirectoryTarget); (2) the huggingface_hub calls the publisher and the consumer make are run against the
stand-in, asserting what each did.
"""

from __future__ import annotations

import json

import pytest

from lab.publish.operations import plan_operations
from lab.publish.release import RECORD_FILE
from lab.publish.targets import DirectoryTarget, HubTarget
from sandbox.standins.hub import HubStandIn

TOKEN = "hf_FAKE_contract_token_0123"
REPO_ID = "acme/student"
HUB_ONLY = {".gitattributes"}  # the Hub creates it with the repository; a directory has no such file


def release(tag: str, files: dict[str, bytes]) -> dict[str, bytes]:
    return {**files, RECORD_FILE: json.dumps({"tag": tag}).encode()}


@pytest.fixture
def hub(tmp_path, monkeypatch):
    monkeypatch.setenv("HF_HOME", str(tmp_path / "hf-home"))
    with HubStandIn(token=TOKEN) as server:
        yield server


@pytest.fixture(params=["hub", "directory"])
def target(request, tmp_path, monkeypatch):
    """The publisher's target: a Hub repository behind the stand-in, or a release directory."""
    if request.param == "directory":
        return DirectoryTarget(tmp_path / "releases-root")
    from huggingface_hub import HfApi

    server = request.getfixturevalue("hub")
    return HubTarget(REPO_ID, HfApi(endpoint=server.url, token=TOKEN))


def publish(target, tag: str, files: dict[str, bytes]) -> str:
    """What the publisher does: read the state, commit the planned operations on that head, tag the commit."""
    state = target.state()
    operations = plan_operations(release(tag, files), [f for f in state.files if f not in HUB_ONLY])
    commit = target.commit(operations, f"release {tag}", "", state.head)
    target.tag(tag, commit, f"release {tag}")
    return commit


def test_a_new_target_has_no_release_files_no_record_and_no_tags(target):
    state = target.state()  # a new Hub repository has a first commit (.gitattributes); a directory has no head
    assert (state.record, state.tags) == (None, {})
    assert set(state.files) <= HUB_ONLY


def test_a_release_becomes_the_head_with_its_files_record_and_tag(target):
    commit = publish(target, "v1", {"model.safetensors": b"\x00" * 64, "card/README.md": b"# v1\n"})
    state = target.state()
    assert state.head == commit and state.tags == {"v1": commit}
    assert set(state.files) - HUB_ONLY == {"model.safetensors", "card/README.md", RECORD_FILE}
    assert state.record == {"tag": "v1"}
    assert "v1" in target.url("v1")


def test_the_next_release_replaces_the_files_and_keeps_the_old_tag(target):
    first = publish(target, "v1", {"old.bin": b"1", "model.safetensors": b"\x01"})
    second = publish(target, "v2", {"model.safetensors": b"\x02"})
    state = target.state()
    assert second != first and state.head == second
    assert state.tags == {"v1": first, "v2": second}
    assert set(state.files) - HUB_ONLY == {"model.safetensors", RECORD_FILE}  # old.bin is gone
    assert state.record == {"tag": "v2"}


# ---- huggingface_hub's calls against the stand-in ------------------------------------------------------------

def api(hub):
    from huggingface_hub import HfApi

    return HfApi(endpoint=hub.url, token=TOKEN)


def test_a_stale_parent_commit_is_refused_and_the_branch_is_unchanged(hub):
    from huggingface_hub import CommitOperationAdd
    from huggingface_hub.errors import HfHubHTTPError

    client = api(hub)
    client.create_repo(REPO_ID)
    first = client.create_commit(REPO_ID, [CommitOperationAdd("a.txt", b"one")], commit_message="one")
    second = client.create_commit(REPO_ID, [CommitOperationAdd("a.txt", b"two")], commit_message="two",
                                  parent_commit=first.oid)
    with pytest.raises(HfHubHTTPError) as refused:
        client.create_commit(REPO_ID, [CommitOperationAdd("a.txt", b"three")], commit_message="three",
                             parent_commit=first.oid)
    assert refused.value.response.status_code == 412
    head = next(b.target_commit for b in client.list_repo_refs(REPO_ID).branches if b.name == "main")
    assert head == second.oid and hub.files(REPO_ID)["a.txt"] == b"two"


def test_a_tag_names_one_commit_and_a_second_tag_of_that_name_is_refused(hub):
    from huggingface_hub import CommitOperationAdd
    from huggingface_hub.errors import HfHubHTTPError

    client = api(hub)
    client.create_repo(REPO_ID)
    first = client.create_commit(REPO_ID, [CommitOperationAdd("a.txt", b"one")], commit_message="one")
    client.create_tag(REPO_ID, tag="v1", revision=first.oid, tag_message="release v1")
    second = client.create_commit(REPO_ID, [CommitOperationAdd("a.txt", b"two")], commit_message="two")
    with pytest.raises(HfHubHTTPError) as refused:
        client.create_tag(REPO_ID, tag="v1", revision=second.oid)
    assert refused.value.response.status_code == 409
    assert {t.name: t.target_commit for t in client.list_repo_refs(REPO_ID).tags} == {"v1": first.oid}


def test_files_read_back_at_a_tag_are_the_bytes_committed_then(hub, tmp_path):
    from huggingface_hub import CommitOperationAdd, CommitOperationDelete

    client = api(hub)
    client.create_repo(REPO_ID)
    weights = bytes(range(256)) * 40
    one = client.create_commit(REPO_ID, [CommitOperationAdd("model.safetensors", weights),
                                         CommitOperationAdd("notes.txt", b"v1 notes")], commit_message="v1")
    client.create_tag(REPO_ID, tag="v1", revision=one.oid)
    client.create_commit(REPO_ID, [CommitOperationDelete("notes.txt"),
                                   CommitOperationAdd("model.safetensors", b"newer")], commit_message="v2")
    assert set(client.list_repo_files(REPO_ID)) - HUB_ONLY == {"model.safetensors"}
    assert set(client.list_repo_files(REPO_ID, revision="v1")) - HUB_ONLY == {"model.safetensors", "notes.txt"}
    path = client.hf_hub_download(REPO_ID, "model.safetensors", revision="v1", cache_dir=tmp_path / "cache")
    assert open(path, "rb").read() == weights
    [entry] = [f for f in client.list_repo_tree(REPO_ID, revision="v1", recursive=True)
               if f.path == "model.safetensors"]
    assert entry.size == len(weights) and entry.lfs is not None  # weights are described as the Hub's LFS files


def test_a_dataset_and_a_model_of_one_name_are_separate_repositories(hub):
    from huggingface_hub import CommitOperationAdd

    client = api(hub)
    client.create_repo(REPO_ID)
    client.create_repo(REPO_ID, repo_type="dataset")
    client.create_repo(REPO_ID, repo_type="dataset", exist_ok=True)  # a second create is a no-op
    client.create_commit(REPO_ID, [CommitOperationAdd("train.jsonl", b"{}\n")], commit_message="data",
                         repo_type="dataset")
    assert "train.jsonl" in client.list_repo_files(REPO_ID, repo_type="dataset")
    assert "train.jsonl" not in client.list_repo_files(REPO_ID)
