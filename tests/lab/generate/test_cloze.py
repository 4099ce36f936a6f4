"""Knowledge rows as sentence completions when the teacher is small (`knowledge_answers: auto`)."""

from __future__ import annotations

import json

import pytest

from lab.generate.backends import ScriptedBackend
from lab.generate.cloze import SMALL_TEACHER_PARAMETERS, cloze_prompt, knowledge_mode, split_point
from lab.generate.config import GenerateParams
from lab.generate.pipeline import LeafPipeline

CHUNK = ("Mars is the fourth planet from the Sun and has two small moons. "
         "The moons of Mars are named Phobos and Deimos after figures of myth. "
         "A day on Mars lasts 24 hours and 37 minutes.")


@pytest.mark.parametrize(("sentence", "shown"), [
    # before the first number: the fact to recall is the number
    ("Both sexes weigh 10–14 g (0.35–0.49 oz).", "Both sexes weigh"),
    ("A day on Mars lasts 24 hours and 37 minutes.", "A day on Mars lasts"),
    # no number: from the phrase of the first content word past two fifths of the sentence
    ("The moons of Mars are named Phobos and Deimos after figures of myth.", "The moons of Mars"),
    ("Prune a young tree in late winter, while it is dormant.", "Prune a young tree"),
])
def test_the_shown_part_ends_where_the_fact_starts(sentence, shown):
    cut = split_point(sentence)
    assert " ".join(sentence.split()[:cut]) == shown
    assert len(sentence.split()) - cut >= 3


def test_a_sentence_too_short_to_split_gives_no_prompt():
    assert split_point("Mars is red today.") is None
    assert cloze_prompt("Mars is red today.", "mars") is None


def test_the_prompt_names_the_subject_and_shows_the_beginning():
    assert cloze_prompt("A day on Mars lasts 24 hours and 37 minutes.", "mars") == \
        'Finish this sentence about mars: "A day on Mars lasts …"'


@pytest.mark.parametrize(("mode", "parameters", "used"), [
    ("auto", 134_515_008, "cloze"),  # SmolLM2-135M: its questions were mostly junk
    ("auto", SMALL_TEACHER_PARAMETERS, "extract"),
    ("auto", None, "extract"),  # an HTTP server or a scripted teacher: size unknown, trusted to ask
    ("extract", 134_515_008, "extract"),
    ("write", 134_515_008, "write"),
    ("cloze", None, "cloze"),
])
def test_auto_completes_sentences_only_for_a_teacher_known_to_be_small(mode, parameters, used):
    assert knowledge_mode(mode, parameters) == used


class SmallTeacher(ScriptedBackend):
    parameters = 134_515_008


def test_a_small_teachers_knowledge_rows_are_completions_of_the_documents_sentences(knowledge_leaf):
    asked: list[str] = []

    def reply(stage, text, i):
        asked.append(stage)
        return json.dumps({"question": "What is Mars?"})

    pipeline = LeafPipeline(knowledge_leaf, SmallTeacher(reply), GenerateParams(samples=3, knowledge_document_share=1.0),
                            [("doc.md", CHUNK)])
    rows = list(pipeline.run())
    assert len(rows) == 3 and not asked  # no teacher request at all
    for row in rows:
        user, answer = row["messages"][1]["content"], row["messages"][2]["content"]
        shown = user.split('"', 1)[1].rstrip(' …"')
        assert user.startswith("Finish this sentence about mars:") and answer in CHUNK and answer.startswith(shown)
        assert row["metadata"]["form"] == "completion" and "document_in_prompt" not in row["metadata"]


def test_a_teacher_of_unknown_size_still_writes_the_questions(knowledge_leaf):
    question = "After which figures were Phobos and Deimos named?"
    backend = ScriptedBackend(lambda stage, text, i: json.dumps(
        {"question": question if "named" in text.rsplit("Answer:", 1)[-1] else "Why is the sky over Venus yellow?"}))
    rows = list(LeafPipeline(knowledge_leaf, backend, GenerateParams(samples=1, max_attempts_factor=6,
                                                                     collapse_min_attempts=8),
                             [("doc.md", CHUNK)]).run())
    assert [r["messages"][1]["content"].split("\n\n")[-1] for r in rows] == [question]


def test_a_sentence_joined_to_the_one_it_leans_on_is_a_passage():
    from lab.generate.shape import answer_sentences

    text = ("The Moon does not make its own light. Half of it is always lit by the Sun, and the phase we see depends "
            "on how much of that lit half faces the Earth.")
    [joined] = answer_sentences(text)  # "Half of it": of what? The sentence before says
    assert joined == text
    assert cloze_prompt(joined, "moon phases").startswith('Finish this passage about moon phases: "The Moon does not')


def test_a_gguf_header_that_cannot_be_read_leaves_the_teachers_size_unknown(tmp_path):
    from lab.generate.backends.llamacpp import gguf_parameters

    junk = tmp_path / "teacher.gguf"
    junk.write_bytes(b"not a gguf file")
    assert gguf_parameters(junk) is None and gguf_parameters(tmp_path / "missing.gguf") is None
    assert knowledge_mode("auto", gguf_parameters(junk)) == "extract"  # unknown size: the teacher still asks
