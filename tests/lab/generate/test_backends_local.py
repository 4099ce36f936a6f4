"""Real local teachers on tiny random models: llama-cpp-python (GGUF) and transformers."""

from __future__ import annotations

import json

import pytest

from lab.generate import GenerateParams, generate_leaves, load_backend
from lab.generate.prompts import QUESTION_SCHEMA
from lab.models.resolve import TeacherNotFound, resolve_teacher

PROMPTS = ["Write one question about rivers.", [{"role": "system", "content": "Be brief."},
                                               {"role": "user", "content": "Ask about café, naïve, 東京 and ✓"}]]


@pytest.fixture(scope="module")
def gguf_backend(tiny_gguf):
    return load_backend(str(tiny_gguf))


def test_llama_cpp_backend_is_seeded_counts_tokens_and_reads_the_window(gguf_backend, tiny_gguf):
    first = gguf_backend.complete(PROMPTS, max_new_tokens=24, temperature=0.8, seed=5, schema=QUESTION_SCHEMA)
    again = gguf_backend.complete(PROMPTS, max_new_tokens=24, temperature=0.8, seed=5, schema=QUESTION_SCHEMA)
    assert [c.text for c in first] == [c.text for c in again]
    assert all(c.prompt_tokens > 0 and 0 < c.completion_tokens <= 24 for c in first)
    assert all(c.text.lstrip().startswith("{") for c in first)  # the JSON grammar holds even for a random model
    assert gguf_backend.count_tokens("東京 ✓ naïve") > 0  # byte tokens: no abort on unknown characters
    assert gguf_backend.context_length == 1024  # the tiny model's trained window caps n_ctx
    assert gguf_backend.teacher_id.startswith("gguf:tiny.gguf:")


def test_gguf_teacher_run_writes_valid_jsonl_and_counts_every_request(gguf_backend, freeform_leaf, tmp_path):
    params = GenerateParams(samples=3, max_new_tokens=48, batch_size=4, collapse_min_attempts=8)
    manifest = generate_leaves([freeform_leaf], gguf_backend, tmp_path / "out", params, cache_dir=tmp_path / "c")
    result = manifest.leaves[0]
    assert result.status in {"ok", "short", "collapsed"}
    assert result.filters["truncated:question"]["seen"] == result.attempted  # every reply is looked at
    unparsed = sum(result.parse_failures.values())
    parse_removed = sum(f["seen"] - f["kept"] for name, f in result.filters.items() if name.startswith("parse:"))
    assert unparsed == parse_removed and result.requests >= result.attempted
    assert result.completion_tokens > 0 and result.tokens_per_s > 0
    for line in (tmp_path / "out" / result.dataset).read_text().splitlines():
        row = json.loads(line)
        assert [m["role"] for m in row["messages"]] == ["system", "user", "assistant"]
    assert len((tmp_path / "out" / result.dataset).read_text().splitlines()) == result.rows


def test_transformers_backend_generates_a_batch_with_one_seed(tiny_llama_dir):
    backend = load_backend(str(tiny_llama_dir), batch_size=2)
    three = [*PROMPTS, "A third prompt"]
    first = backend.complete(three, max_new_tokens=12, temperature=0.9, seed=1)
    again = backend.complete(three, max_new_tokens=12, temperature=0.9, seed=1)
    assert len(first) == 3 and [c.text for c in first] == [c.text for c in again]
    assert all(c.prompt_tokens > 0 and 0 < c.completion_tokens <= 12 for c in first)
    assert backend.context_length == 1024 and backend.count_tokens("hello world") > 0
    too_long = backend.complete(["word " * 2000], max_new_tokens=8, temperature=0.0, seed=0)
    assert too_long[0].error and "does not fit" in too_long[0].error


def test_teacher_specs_resolve_to_local_files_servers_or_clear_errors(tiny_gguf, tiny_llama_dir, tmp_path, monkeypatch):
    assert resolve_teacher(str(tiny_gguf)).kind == "gguf"
    assert resolve_teacher(str(tiny_gguf.parent)).location == str(tiny_gguf)
    hf = resolve_teacher(str(tiny_llama_dir))
    assert hf.kind == "hf_dir" and hf.teacher_id == resolve_teacher(str(tiny_llama_dir)).teacher_id
    assert resolve_teacher("http://127.0.0.1:8000/v1").kind == "http"
    monkeypatch.setenv("HF_HOME", str(tmp_path / "hf-home"))
    with pytest.raises(TeacherNotFound, match="offline mode is on"):
        resolve_teacher("someone/not-cached-model", offline=True, cache_dir=tmp_path / "hub")
    with pytest.raises(TeacherNotFound, match="not an existing path"):
        resolve_teacher("not a model")
    (tmp_path / "weights.bin").write_bytes(b"x")
    with pytest.raises(TeacherNotFound, match="not a .gguf"):
        resolve_teacher(str(tmp_path / "weights.bin"))


def test_hub_repo_in_the_local_cache_loads_offline(tiny_gguf, tmp_path):
    """A repo id resolves through huggingface_hub's cache layout without any network call."""
    cache = tmp_path / "hub"
    snap = cache / "models--acme--tiny-teacher" / "snapshots" / ("a" * 40)
    snap.mkdir(parents=True)
    (snap / "tiny.gguf").write_bytes(tiny_gguf.read_bytes())
    (cache / "models--acme--tiny-teacher" / "refs").mkdir()
    (cache / "models--acme--tiny-teacher" / "refs" / "main").write_text("a" * 40)
    resolved = resolve_teacher("acme/tiny-teacher:tiny.gguf", offline=True, cache_dir=cache)
    assert resolved.kind == "gguf" and resolved.location == str(snap / "tiny.gguf")
    assert resolved.teacher_id == f"hub:acme/tiny-teacher@{'a' * 40}:tiny.gguf"


def test_knowledge_chunks_fit_the_gguf_teachers_window_by_its_own_tokenizer(gguf_backend, knowledge_leaf, tmp_path):
    from lab.generate.documents import DocsSettings
    from lab.generate.prompts import fixed_overhead_tokens, knowledge_prompt
    from lab.generate.runner import knowledge_chunks

    overhead = fixed_overhead_tokens(knowledge_leaf, list(knowledge_leaf.seeds), gguf_backend.count_tokens)
    answer_tokens = gguf_backend.context_length - overhead - 100  # leaves ~100 tokens of the window for a chunk
    params = GenerateParams(chunk_answer_tokens=answer_tokens, seeds_per_prompt=3)
    docs = DocsSettings(cache_dir=tmp_path / "docs", allow_local=True)
    chunks = knowledge_chunks(knowledge_leaf, gguf_backend, params, docs)
    assert len(chunks) > 1 and {source for source, _ in chunks} == {"mars.md"}
    for _, chunk in chunks:
        prompt = knowledge_prompt(knowledge_leaf, list(knowledge_leaf.seeds), chunk)
        used = sum(gguf_backend.count_tokens(m["content"]) for m in prompt)
        assert used <= overhead + gguf_backend.count_tokens(chunk)
        assert overhead + gguf_backend.count_tokens(chunk) + params.chunk_answer_tokens <= gguf_backend.context_length


def test_parallel_llama_contexts_give_the_same_replies_as_one(tiny_gguf):
    prompts = [f"Ask question number {i} about a river." for i in range(6)]
    one = load_backend(str(tiny_gguf))
    two = load_backend(str(tiny_gguf), parallel=2)
    try:
        expected = one.complete(prompts, max_new_tokens=16, temperature=0.8, seed=11, schema=QUESTION_SCHEMA)
        got = two.complete(prompts, max_new_tokens=16, temperature=0.8, seed=11, schema=QUESTION_SCHEMA)
        assert [c.text for c in got] == [c.text for c in expected]
        assert sum(c.completion_tokens for c in got) == sum(c.completion_tokens for c in expected) > 0
    finally:
        one.close()
        two.close()


def test_llama_models_load_without_repacked_buffers_and_the_default_comes_back():
    llama_cpp = pytest.importorskip("llama_cpp")
    from lab.llamacpp import plain_buffers

    default = llama_cpp.llama_cpp.llama_model_default_params
    with plain_buffers():
        assert llama_cpp.llama_cpp.llama_model_default_params().use_extra_bufts is False
    assert llama_cpp.llama_cpp.llama_model_default_params is default
    assert default().use_extra_bufts is True
