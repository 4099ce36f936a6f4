"""Generation fanned out over teacher replicas writes what the local path writes, and reports each replica."""

from __future__ import annotations

import json

from lab.generate import KNOWLEDGE_FILE, MANIFEST_FILE, SKILLS_FILE, GenerateParams, generate_leaves
from lab.generate.backends.openai_http import OpenAIBackend
from lab.generate.documents import DocsSettings
from lab.generate.fanout import TeacherReplicas, generate_leaves_fanned, thread_map
from sandbox.standins.teacher import MODEL, ScriptedTeacherServer
from schemas.datacontract import leaf_file

PARAMS = GenerateParams(samples=3, max_attempts_factor=6.0)


def _files(out) -> dict[str, bytes]:
    return {p.relative_to(out).as_posix(): p.read_bytes() for p in sorted(out.rglob("*.jsonl"))}


def test_two_replicas_write_the_bytes_one_teacher_writes_and_share_its_cache(
        tmp_path, freeform_leaf, grounded_leaf, knowledge_leaf):
    leaves = [freeform_leaf, grounded_leaf, knowledge_leaf]
    docs = DocsSettings(cache_dir=tmp_path / "docs", allow_local=True)
    with ScriptedTeacherServer() as one, ScriptedTeacherServer() as two:
        replicas = TeacherReplicas((one.url, two.url))
        fanned = generate_leaves_fanned(leaves, replicas, tmp_path / "fanned", PARAMS, cache_dir=tmp_path / "c1",
                                        mapper=thread_map(2), docs=docs)
        assert one.requests > 0 and two.requests > 0  # the leaves really went to both replicas
        local_backend = OpenAIBackend(one.url, teacher_id=replicas.teacher_id(MODEL))
        local = generate_leaves(leaves, local_backend, tmp_path / "local", PARAMS, cache_dir=tmp_path / "c2", docs=docs)
        local_backend.close()
        before = one.requests + two.requests
        again = generate_leaves_fanned(leaves, replicas, tmp_path / "again", PARAMS, cache_dir=tmp_path / "c1",
                                       docs=docs)
        assert one.requests + two.requests == before  # the shared cache answered: no teacher work
    assert _files(tmp_path / "fanned") == _files(tmp_path / "local") == _files(tmp_path / "again")
    assert {leaf_file(r.leaf_id) for r in fanned.leaves} <= set(_files(tmp_path / "fanned"))
    assert (tmp_path / "fanned" / SKILLS_FILE).stat().st_size > 0 and (tmp_path / "fanned" / KNOWLEDGE_FILE).exists()
    assert [r.status for r in fanned.leaves] == [r.status for r in local.leaves] == ["ok"] * 3
    assert {r.status for r in again.leaves} == {"cached"}


def test_the_manifest_reports_each_replica_and_the_whole(tmp_path, freeform_leaf, grounded_leaf):
    with ScriptedTeacherServer() as one, ScriptedTeacherServer() as two:
        manifest = generate_leaves_fanned([freeform_leaf, grounded_leaf], TeacherReplicas((one.url, two.url)),
                                          tmp_path / "out", PARAMS, cache_dir=tmp_path / "cache")
    written = json.loads((tmp_path / "out" / MANIFEST_FILE).read_text())
    per_replica, overall = written["replicas"][:2], written["replicas"][2]
    assert [r["leaves"] for r in per_replica] == [1, 1]
    assert all(r["completion_tokens"] > 0 and r["completion_tokens_per_s"] > 0 for r in per_replica)
    assert overall["replica"] == "all" and overall["completion_tokens"] == sum(r["completion_tokens"] for r in per_replica)
    assert written["teacher"] == f"replicas:{MODEL}" == manifest.teacher


def test_no_replicas_is_a_clear_error(tmp_path, freeform_leaf):
    import pytest

    with pytest.raises(ValueError, match="no teacher replicas"):
        generate_leaves_fanned([freeform_leaf], TeacherReplicas(()), tmp_path / "out")


def test_a_teacher_spec_of_several_urls_is_one_teacher_on_replicas(tmp_path, freeform_leaf, grounded_leaf):
    import pytest

    from lab.generate.backends import BackendError, close_backend
    from lab.generate.fanout import generate_with, load_teacher, mapper_from_env, replicas_in

    assert replicas_in("http://a:8000/v1, https://b/v1") == TeacherReplicas(("http://a:8000/v1", "https://b/v1"))
    assert replicas_in("http://a:8000/v1") is None and replicas_in("scripted") is None
    with pytest.raises(BackendError, match="must be http"):
        load_teacher("teacher.gguf,http://b/v1")
    with pytest.raises(ValueError, match="ARBORIST_FANOUT"):
        mapper_from_env(2, {"ARBORIST_FANOUT": "everywhere"})
    with ScriptedTeacherServer() as one, ScriptedTeacherServer() as two:
        replicas = load_teacher(f"{one.url},{two.url}")
        fanned = generate_with(replicas, [freeform_leaf, grounded_leaf], tmp_path / "a", PARAMS,
                               cache_dir=tmp_path / "cache")
        close_backend(replicas)  # nothing to close for replicas: a no-op, as for any backend without close()
    local = generate_with(load_teacher("scripted"), [freeform_leaf], tmp_path / "b", PARAMS, cache_dir=tmp_path / "cache")
    assert [r["leaves"] for r in fanned.replicas] == [1, 1, 2] and local.replicas == []
    assert local.teacher == "scripted:v1"
