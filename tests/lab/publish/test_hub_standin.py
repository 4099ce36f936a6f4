"""The Hub stand-in answers huggingface_hub's real client calls the way the Hub does."""

from __future__ import annotations

import pytest

from sandbox.standins.hub import HubStandIn

TOKEN = "hf_FAKE_standin_token_123"


@pytest.fixture()
def hub(tmp_path, monkeypatch):
    monkeypatch.setenv("HF_HOME", str(tmp_path / "hf-home"))
    with HubStandIn(token=TOKEN) as server:
        yield server


def _api(hub, token=TOKEN):
    from huggingface_hub import HfApi

    return HfApi(endpoint=hub.url, token=token)


def test_commit_tag_and_download_round_trip(hub, tmp_path):
    from huggingface_hub import CommitOperationAdd, snapshot_download

    api = _api(hub)
    api.create_repo("org/model")
    api.create_repo("org/model", exist_ok=True)  # a second create is a no-op, as on the Hub
    info = api.create_commit("org/model", [CommitOperationAdd("w/weights.bin", b"\x00\x01" * 3000),
                                           CommitOperationAdd("config.json", b"{}")], commit_message="release")
    api.create_tag("org/model", tag="v1", revision=info.oid)
    refs = api.list_repo_refs("org/model")
    assert [t.name for t in refs.tags] == ["v1"] and refs.tags[0].target_commit == info.oid
    assert {f.path for f in api.list_repo_tree("org/model", recursive=True)} >= {"w/weights.bin", "config.json"}
    path = snapshot_download("org/model", revision="v1", endpoint=hub.url, token=TOKEN,
                             cache_dir=tmp_path / "cache", allow_patterns=["w/*"])
    assert (tmp_path / "cache").exists()
    from pathlib import Path

    assert (Path(path) / "w" / "weights.bin").read_bytes() == b"\x00\x01" * 3000
    assert not (Path(path) / "config.json").exists()


def test_writes_without_the_token_are_refused(hub):
    from huggingface_hub.errors import HfHubHTTPError

    with pytest.raises(HfHubHTTPError) as err:
        _api(hub, token="hf_wrong").create_repo("org/model")
    assert err.value.response.status_code == 401
    assert "org/model" not in hub.state.repos


def test_injected_commit_failure_leaves_branch_unchanged(hub):
    from huggingface_hub import CommitOperationAdd
    from huggingface_hub.errors import HfHubHTTPError

    api = _api(hub)
    api.create_repo("org/model")
    first = api.create_commit("org/model", [CommitOperationAdd("a.txt", b"one")], commit_message="one")
    hub.fail_commit(1)
    with pytest.raises(HfHubHTTPError):
        api.create_commit("org/model", [CommitOperationAdd("a.txt", b"two")], commit_message="two")
    assert hub.files("org/model")["a.txt"] == b"one"
    assert hub.state.repos["org/model"].branches["main"] == first.oid
    # A stale parent is refused instead of overwriting someone else's commit.
    api.create_commit("org/model", [CommitOperationAdd("a.txt", b"three")], commit_message="three")
    with pytest.raises(HfHubHTTPError) as err:
        api.create_commit("org/model", [CommitOperationAdd("a.txt", b"four")], commit_message="four",
                          parent_commit=first.oid)
    assert err.value.response.status_code == 412
    assert hub.files("org/model")["a.txt"] == b"three"


def test_malformed_commit_body_gets_a_400_and_changes_nothing(hub):
    import httpx

    _api(hub).create_repo("org/model")
    head = hub.state.repos["org/model"].branches["main"]
    response = httpx.post(f"{hub.url}/api/models/org/model/commit/main", content=b"{not json\n",
                          headers={"Authorization": f"Bearer {TOKEN}"})
    assert response.status_code == 400
    escape = b'{"key":"header","value":{"summary":"x"}}\n{"key":"file","value":{"path":"../x","content":""}}\n'
    response = httpx.post(f"{hub.url}/api/models/org/model/commit/main", content=escape,
                          headers={"Authorization": f"Bearer {TOKEN}"})
    assert response.status_code == 400 and "invalid path" in response.json()["error"]
    assert hub.state.repos["org/model"].branches["main"] == head


def test_the_stand_in_runs_as_a_process_and_prints_its_url():
    import subprocess
    import sys

    proc = subprocess.Popen([sys.executable, "-m", "sandbox.standins.hub"], stdout=subprocess.PIPE, text=True)
    try:
        url = proc.stdout.readline().strip()
        import httpx

        assert url.startswith("http://127.0.0.1:")
        assert httpx.get(f"{url}/api/whoami-v2").json()["name"] == "arborist-bot"
    finally:
        proc.terminate()
        proc.wait(timeout=10)


def test_a_commit_over_the_body_limit_gets_a_413_naming_the_limit_and_changes_nothing(tmp_path, monkeypatch):
    from huggingface_hub import HfApi
    from huggingface_hub.errors import HfHubHTTPError

    monkeypatch.setenv("HF_HOME", str(tmp_path / "hf-home"))
    with HubStandIn(token=TOKEN, max_body=4096) as small:
        api = HfApi(endpoint=small.url, token=TOKEN)
        api.create_repo("org/model")
        head = small.state.repos["org/model"].branches["main"]
        api.upload_file(path_or_fileobj=b"x" * 100, path_in_repo="small.txt", repo_id="org/model")  # under it: fine
        kept = small.state.repos["org/model"].branches["main"]
        assert kept != head
        with pytest.raises(HfHubHTTPError) as refused:
            api.upload_file(path_or_fileobj=b"x" * 8000, path_in_repo="model.safetensors", repo_id="org/model")
        assert refused.value.response.status_code == 413
        assert "at most 4096" in str(refused.value)
        assert small.state.repos["org/model"].branches["main"] == kept
        api.upload_file(path_or_fileobj=b"y" * 100, path_in_repo="after.txt", repo_id="org/model")  # still serving


def test_the_default_body_limit_takes_one_commit_of_a_real_135m_release():
    from sandbox.standins.hub import MAX_BODY, HubState

    params = 134_515_008  # SmolLM2-135M-Instruct; the release ships fp32 safetensors and f16 + three quants
    safetensors = params * 4
    gguf_twin = params * (2 + 4.85 / 8 + 5.69 / 8 + 8.5 / 8)  # f16, Q4_K_M, Q5_K_M, Q8_0 bits per weight
    largest_commit = max(safetensors, gguf_twin) * 4 / 3  # files travel base64 inline in the NDJSON commit
    assert largest_commit < MAX_BODY <= 2 * 1024**3  # fits, and stays bounded: the stand-in holds bodies in memory
    assert HubState().max_body == MAX_BODY
