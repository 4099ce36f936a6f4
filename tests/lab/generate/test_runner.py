"""generate_leaves end to end with the scripted teacher: files, manifest, cache, documents, failures."""

from __future__ import annotations

import json

import pytest

from lab.generate import (
    KNOWLEDGE_FILE,
    MANIFEST_FILE,
    SKILLS_FILE,
    GenerateParams,
    ScriptedBackend,
    generate_leaves,
)
from lab.generate.documents import DocsSettings
from lab.taxonomy.leaf import leaf_from_yaml

from .conftest import FREEFORM


def read_jsonl(path):
    return [json.loads(line) for line in path.read_text().splitlines() if line.strip()]


def test_skills_and_knowledge_go_to_separate_merged_files_with_a_manifest(
        tmp_path, freeform_leaf, grounded_leaf, knowledge_leaf):
    docs = DocsSettings(cache_dir=tmp_path / "docs", allow_local=True)
    manifest = generate_leaves([freeform_leaf, grounded_leaf, knowledge_leaf], ScriptedBackend(), tmp_path / "out",
                               GenerateParams(samples=3, max_attempts_factor=6.0), cache_dir=tmp_path / "cache", docs=docs)
    out = tmp_path / "out"
    skills, knowledge = read_jsonl(out / SKILLS_FILE), read_jsonl(out / KNOWLEDGE_FILE)
    assert len(skills) == 6 and {r["metadata"]["kind"] for r in skills} == {"freeform_skill", "grounded_skill"}
    assert len(knowledge) == 3 and all(r["metadata"]["source"] == "mars.md" for r in knowledge)
    # knowledge answers come from the document, not from the seeds
    assert all(" ".join(r["messages"][2]["content"].split()) in " ".join(
        (tmp_path / "docs-repo" / "mars.md").read_text().split()) for r in knowledge)
    for result in manifest.leaves:
        assert result.status == "ok" and result.rows == 3
        assert read_jsonl(out / result.dataset) and result.keep_rate > 0
        assert result.filters["parse:" + {"knowledge": "question", "grounded_skill": "context",
                                          "freeform_skill": "question"}[result.kind]]["seen"] >= 3
    saved = json.loads((out / MANIFEST_FILE).read_text())
    assert saved["rows"] == 9 and saved["teacher"] == "scripted:v1"
    assert [leaf["leaf_hash"] for leaf in saved["leaves"]] == [freeform_leaf.content_hash,
                                                               grounded_leaf.content_hash, knowledge_leaf.content_hash]


def test_rerun_on_unchanged_leaf_does_no_model_work_and_writes_the_same_rows(tmp_path, freeform_leaf):
    params = GenerateParams(samples=4)
    first = ScriptedBackend()
    generate_leaves([freeform_leaf], first, tmp_path / "a", params, cache_dir=tmp_path / "cache")
    second = ScriptedBackend()
    manifest = generate_leaves([freeform_leaf], second, tmp_path / "b", params, cache_dir=tmp_path / "cache")
    assert first.prompts_seen > 0 and second.prompts_seen == 0
    assert manifest.leaves[0].status == "cached"
    assert (tmp_path / "a" / SKILLS_FILE).read_text() == (tmp_path / "b" / SKILLS_FILE).read_text()


def test_same_content_at_another_path_is_generated_for_that_path(tmp_path):
    leaves = [leaf_from_yaml(f"compositional_skills/{name}/qna.yaml", FREEFORM) for name in ("a", "b")]
    backend = ScriptedBackend()
    manifest = generate_leaves(leaves, backend, tmp_path / "out", GenerateParams(samples=2), cache_dir=tmp_path / "c")
    assert [r.status for r in manifest.leaves] == ["ok", "ok"]
    rows = read_jsonl(tmp_path / "out" / SKILLS_FILE)
    assert [r["metadata"]["leaf"] for r in rows] == [leaves[0].path] * 2 + [leaves[1].path] * 2


def test_edited_leaf_or_other_params_miss_the_cache(tmp_path, freeform_leaf):
    generate_leaves([freeform_leaf], ScriptedBackend(), tmp_path / "a", GenerateParams(samples=2),
                    cache_dir=tmp_path / "cache")
    edited = leaf_from_yaml(freeform_leaf.path, FREEFORM.replace(b"tired", b"sleepy"))
    for leaf, params in ((edited, GenerateParams(samples=2)), (freeform_leaf, GenerateParams(samples=2, seed=9))):
        backend = ScriptedBackend()
        manifest = generate_leaves([leaf], backend, tmp_path / "b", params, cache_dir=tmp_path / "cache")
        assert backend.prompts_seen > 0 and manifest.leaves[0].status == "ok"
    backend = ScriptedBackend()  # batch size changes speed, not data: still a hit
    generate_leaves([freeform_leaf], backend, tmp_path / "c", GenerateParams(samples=2, batch_size=1),
                    cache_dir=tmp_path / "cache")
    assert backend.prompts_seen == 0


def test_a_teacher_that_raises_fails_its_leaf_and_the_run_goes_on(tmp_path, freeform_leaf, grounded_leaf):
    class Flaky(ScriptedBackend):
        def complete(self, prompts, **kw):
            if "synonym" in str(prompts[0]):
                raise RuntimeError("GPU fell off the bus")
            return super().complete(prompts, **kw)

    manifest = generate_leaves([freeform_leaf, grounded_leaf], Flaky(), tmp_path / "out", GenerateParams(samples=2),
                               cache_dir=tmp_path / "cache")
    failed, ok = manifest.leaves
    assert failed.status == "failed" and "GPU fell off the bus" in failed.message
    assert ok.status == "ok" and ok.rows == 2
    assert not list((tmp_path / "cache").rglob("meta.json"))[1:]  # only the good leaf was cached


def test_backend_errors_are_counted_and_not_cached(tmp_path, freeform_leaf):
    from lab.generate.backends import Completion

    class Erroring(ScriptedBackend):
        def complete(self, prompts, **kw):
            return [Completion("", finish_reason="error", error="HTTP 503") for _ in prompts]

    manifest = generate_leaves([freeform_leaf], Erroring(), tmp_path / "out",
                               GenerateParams(samples=2, collapse_min_attempts=4), cache_dir=tmp_path / "cache")
    result = manifest.leaves[0]
    assert result.status == "failed" and result.backend_errors == result.attempted  # no row: the leaf failed
    assert result.message.startswith("the teacher failed") and "HTTP 503" in result.message
    assert result.parse_failures == {"question: backend error": result.attempted}
    assert result.error_examples == ["HTTP 503"]
    assert not list((tmp_path / "cache").rglob("meta.json"))


def test_local_document_repo_is_refused_unless_explicitly_allowed(tmp_path, knowledge_leaf):
    manifest = generate_leaves([knowledge_leaf], ScriptedBackend(), tmp_path / "out", GenerateParams(samples=2),
                               cache_dir=tmp_path / "cache", docs=DocsSettings(cache_dir=tmp_path / "docs"))
    result = manifest.leaves[0]
    assert result.status == "failed" and "ARBORIST_ALLOW_LOCAL_DOCS=1" in result.message
    assert (tmp_path / "out" / KNOWLEDGE_FILE).read_text() == ""


def test_knowledge_falls_back_to_seed_contexts_only_when_asked(tmp_path, knowledge_leaf):
    docs = DocsSettings(cache_dir=tmp_path / "docs")
    manifest = generate_leaves([knowledge_leaf], ScriptedBackend(), tmp_path / "out",
                               GenerateParams(samples=2, docs_fallback_to_seed_contexts=True),
                               cache_dir=tmp_path / "cache", docs=docs)
    assert manifest.leaves[0].rows == 2
    rows = read_jsonl(tmp_path / "out" / KNOWLEDGE_FILE)
    assert all(r["metadata"]["source"] == "seed-contexts" for r in rows)


@pytest.mark.parametrize("leaves", [0, 6])
def test_progress_sees_every_leaf_and_row(tmp_path, freeform_leaf, leaves):
    events = []

    class Recorder:
        def leaf_started(self, leaf_id, total):
            events.append(("start", total))

        def advance(self, n=1):
            events.append(("row", n))

        def leaf_finished(self, result):
            events.append(("end", result.rows))

    many = [leaf_from_yaml(f"compositional_skills/s{i}/qna.yaml", FREEFORM) for i in range(leaves)]
    generate_leaves(many, ScriptedBackend(), tmp_path / "out", GenerateParams(samples=2), cache_dir=tmp_path / "c",
                    progress=Recorder())
    assert events.count(("start", 2)) == leaves and events.count(("end", 2)) == leaves
    assert sum(n for kind, n in events if kind == "row") == 2 * leaves


def test_a_small_teachers_knowledge_leaf_says_its_rows_are_completions(tmp_path, knowledge_leaf):
    from lab.generate.runner import COMPLETIONS_NOTE

    class SmallTeacher(ScriptedBackend):
        parameters = 134_515_008

    manifest = generate_leaves([knowledge_leaf], SmallTeacher(), tmp_path / "out",
                               GenerateParams(samples=2, docs_fallback_to_seed_contexts=True),
                               cache_dir=tmp_path / "cache", docs=DocsSettings(cache_dir=tmp_path / "docs"))
    result = manifest.leaves[0]
    assert result.rows >= 1 and result.message.startswith(COMPLETIONS_NOTE) and result.requests == 0
    assert all(r["messages"][1]["content"].startswith("Finish this ") for r in read_jsonl(tmp_path / "out" / KNOWLEDGE_FILE))
