"""A teacher named by Hub repo id is downloaded over HTTP into the normal cache, then served offline."""

from __future__ import annotations

from pathlib import Path

import pytest

from lab.models.resolve import TeacherNotFound, resolve_teacher
from sandbox.standins.hub import HubStandIn
from tests.hf_home import isolated_hf_home  # noqa: F401  (autouse fixture)

TOKEN = "hf_test_token_for_the_standin"


def _upload(hub: HubStandIn, repo: str, files: dict[str, bytes]) -> None:
    from huggingface_hub import CommitOperationAdd, HfApi

    api = HfApi(endpoint=hub.url, token=TOKEN)
    api.create_repo(repo)
    api.create_commit(repo, [CommitOperationAdd(name, data) for name, data in files.items()],
                      commit_message="teacher")


def test_a_gguf_teacher_is_fetched_from_the_hub_then_found_offline(tiny_gguf, tmp_path):
    from huggingface_hub import HfApi

    cache = tmp_path / "cache"
    with HubStandIn(token=TOKEN) as hub:
        _upload(hub, "acme/tiny-teacher", {"tiny-f16.gguf": tiny_gguf.read_bytes(), "README.md": b"teacher\n"})
        fetched = resolve_teacher("acme/tiny-teacher", cache_dir=cache, token=TOKEN,
                                  api=HfApi(endpoint=hub.url, token=TOKEN))
    assert fetched.kind == "gguf" and fetched.location.endswith("tiny-f16.gguf")
    assert str(cache) in fetched.location  # in the huggingface_hub cache layout, not a temp copy
    # the stand-in is gone: offline mode serves the same file from the cache without any request
    again = resolve_teacher("acme/tiny-teacher:tiny-f16.gguf", cache_dir=cache, offline=True)
    assert again.location == fetched.location and again.teacher_id == fetched.teacher_id


def test_a_model_folder_teacher_is_fetched_with_only_model_files(tiny_llama_dir, tmp_path):
    from huggingface_hub import HfApi

    files = {p.name: p.read_bytes() for p in tiny_llama_dir.iterdir() if p.is_file()}
    files["notes/huge-log.bin"] = b"\0" * 1000  # not a model file: never downloaded
    with HubStandIn(token=TOKEN) as hub:
        _upload(hub, "acme/tiny-hf-teacher", files)
        fetched = resolve_teacher("acme/tiny-hf-teacher", cache_dir=tmp_path / "cache", token=TOKEN,
                                  api=HfApi(endpoint=hub.url, token=TOKEN))
    assert fetched.kind == "hf_dir"
    folder = Path(fetched.location)
    assert (folder / "config.json").is_file() and list(folder.glob("*.safetensors"))
    assert not (folder / "notes").exists()


def test_a_missing_repo_offline_says_how_to_fix_it(tmp_path):
    with pytest.raises(TeacherNotFound, match="offline"):
        resolve_teacher("acme/never-downloaded", cache_dir=tmp_path / "cache", offline=True)
