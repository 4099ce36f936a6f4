"""Pure pieces: reply parsing, ROUGE-L, length bounds, parameter overrides, chunking, documents."""

from __future__ import annotations

import pytest

from lab.evaluate.scoring import lcs_f1
from lab.generate.chunking import chunk_budget, chunk_markdown
from lab.generate.config import GenerateParams
from lab.generate.documents import DocsSettings, DocumentError, read_documents
from lab.generate.parse import parse_reply
from lab.generate.prompts import JUDGE_SCHEMA, QA_SCHEMA
from lab.generate.rouge import NearDuplicates, tokens
from lab.taxonomy.leaf import Document

from .conftest import MARS_DOC, make_doc_repo


@pytest.mark.parametrize(("text", "fields", "reason"), [
    ('{"question": " Why? ", "answer": "Because."}', {"question": "Why?", "answer": "Because."}, ""),
    ('```json\n{"question": "Q one", "answer": "A"}\n```', {"question": "Q one", "answer": "A"}, ""),
    ('Sure! {"question": "Who?", "answer": "Me"} hope this helps', {"question": "Who?", "answer": "Me"}, ""),
    ('{"question": "Why? Because.", "answer": "a?b"}', {"question": "Why? Because.", "answer": "a?b"}, ""),
    ("", None, "empty"),
    ("What is it? It is a cat.", None, "not json"),
    ('{"question": "cut off', None, "not json"),
    ('{"question": "Q"}', None, "missing 'answer'"),
    ('{"question": "Q", "answer": 3}', None, "missing 'answer'"),
    ('["question"]', None, "not json"),
    ('{"question": "tab\tand\x01bell\x7f", "answer": "\x02"}', None, "missing 'answer'"),
    ('{"question": "raw\x01control", "answer": "kept\nline"}', {"question": "rawcontrol", "answer": "kept\nline"}, ""),
])
def test_replies_are_decoded_as_json_never_split_on_punctuation(text, fields, reason):
    parsed = parse_reply(text, QA_SCHEMA)
    assert parsed.fields == fields and parsed.reason == reason


def test_judge_verdict_outside_the_enum_is_a_parse_failure():
    assert parse_reply('{"verdict": "maybe", "reason": "r"}', JUDGE_SCHEMA).fields is None
    assert parse_reply('{"verdict": "yes", "reason": "r"}', JUDGE_SCHEMA).fields["verdict"] == "yes"


def test_rouge_l_matches_hand_computed_values():
    a, b = tokens("the cat sat on the mat"), tokens("the cat lay on a mat")
    # LCS = the cat on mat (4); P = R = 4/6
    assert lcs_f1(a, b) == pytest.approx(4 / 6)
    assert lcs_f1(a, a) == 1.0 and lcs_f1(a, ()) == 0.0


def test_near_duplicates_reject_close_texts_and_keep_distinct_ones():
    index = NearDuplicates(0.7, ["What is a synonym for happy?"])
    assert not index.admit("what is a synonym for happy")
    assert not index.admit("What is a good synonym for happy?")
    assert index.admit("Name three rivers in France.")
    assert not index.admit("Name three rivers in France!")
    assert not index.admit("   ")


def test_params_overrides_reject_unknown_keys_and_wrong_types():
    assert GenerateParams().with_overrides({"samples": 5, "temperature": 1}).temperature == 1.0
    with pytest.raises(ValueError, match="^sample: unknown key"):
        GenerateParams().with_overrides({"sample": 5})
    with pytest.raises(ValueError, match="^samples: expected an integer, got '5'"):
        GenerateParams().with_overrides({"samples": "5"})
    with pytest.raises(ValueError, match="^judge: expected true or false, got 1"):
        GenerateParams().with_overrides({"judge": 1})
    with pytest.raises(ValueError, match="^samples: input should be greater than or equal to 1"):
        GenerateParams().with_overrides({"samples": 0})


def test_chunks_fit_the_budget_by_the_real_tokenizer_and_lose_no_text(tiny_llama_dir):
    from transformers import AutoTokenizer

    tok = AutoTokenizer.from_pretrained(tiny_llama_dir)
    count = lambda text: len(tok(text, add_special_tokens=False)["input_ids"])  # noqa: E731
    text = MARS_DOC * 3 + "\n\n" + " ".join(["longwordwithoutspaces"] * 80)
    chunks = chunk_markdown(text, 60, count)
    assert len(chunks) > 3
    assert all(count(c) <= 60 for c in chunks)
    assert " ".join(" ".join(chunks).split()) == " ".join(text.split())
    assert chunks[0].startswith("# Mars\nMars is")  # a heading stays with its paragraph


def test_a_context_window_too_small_for_a_chunk_is_a_clear_error():
    assert chunk_budget(4096, 500, 256, cap=1024) == 1024
    assert chunk_budget(1024, 500, 256, cap=1024) == 268
    with pytest.raises(ValueError, match="leaves only"):
        chunk_budget(512, 400, 256, cap=1024)


def test_documents_are_fetched_once_at_the_pinned_commit_markdown_only(tmp_path):
    repo, commit = make_doc_repo(tmp_path / "repo")
    settings = DocsSettings(cache_dir=tmp_path / "cache", allow_local=True)
    doc = Document(str(repo), commit, ("*.md", "*.txt"))
    assert read_documents(doc, settings) == [("mars.md", MARS_DOC)]
    (repo / "mars.md").write_text("changed after the commit")
    assert read_documents(doc, settings)[0][1] == MARS_DOC  # the pinned commit, from the cache
    assert len(list((tmp_path / "cache").rglob(".arborist-complete"))) == 1


def test_documents_over_the_size_cap_or_outside_https_are_refused(tmp_path):
    repo, commit = make_doc_repo(tmp_path / "repo")
    small = DocsSettings(cache_dir=tmp_path / "cache", allow_local=True, max_file_bytes=100)
    with pytest.raises(DocumentError, match="over the 100-byte limit"):
        read_documents(Document(str(repo), commit, ("*.md",)), small)
    for remote in ("http://example.com/r.git", "git@github.com:o/r.git", f"file://{repo}"):
        with pytest.raises(DocumentError, match="https|ARBORIST_ALLOW_LOCAL_DOCS"):
            read_documents(Document(remote, commit, ("*.md",)), DocsSettings(cache_dir=tmp_path / "c2"))
    with pytest.raises(DocumentError, match="not a commit hash"):
        read_documents(Document("https://example.com/r", "main; rm -rf /", ("*.md",)), small)


def test_hostile_patterns_are_data_not_git_options(tmp_path):
    repo, commit = make_doc_repo(tmp_path / "repo")
    settings = DocsSettings(cache_dir=tmp_path / "cache", allow_local=True)
    with pytest.raises(DocumentError, match="no markdown file"):
        read_documents(Document(str(repo), commit, ("--help", "-c", "../../etc/passwd")), settings)
