"""Question-answer consistency and task checks, on what the real SmolLM2-135M teacher wrote (benchmarks/data)."""

from __future__ import annotations

import json

import pytest

from lab.generate.backends import ScriptedBackend
from lab.generate.config import GenerateParams
from lab.generate.consistency import TaskShape, off_task, unanswered
from lab.generate.pipeline import LeafPipeline, SeedRules
from lab.generate.prompts import question_schema
from lab.generate.shape import answer_sentences, repetitive, sentences, unfinished
from lab.taxonomy.leaf import leaf_from_yaml
from tests.lab.generate.conftest import SYNONYMS_LEAF

# The moon-phases leaf's seed contexts (examples/taxonomy/knowledge/science/astronomy/moon_phases), as one chunk.
MOON = (
    "The Moon does not make its own light. Half of it is always lit by the Sun, and the phase we see depends on "
    "how much of that lit half faces the Earth. At new moon the Moon sits roughly between the Earth and the Sun, so "
    "its lit side faces away from us. At full moon the Earth is roughly between the Sun and the Moon, and the whole "
    "lit side faces us. A complete cycle of phases, from one new moon to the next, is called a synodic month and "
    "lasts about 29.5 days. It is longer than the 27.3 days the Moon needs to circle the Earth once relative to the "
    "stars. After full moon the lit part shrinks, and the Moon is waning through the waning gibbous, last quarter "
    "and waning crescent phases. A solar eclipse can only happen at new moon, when the Moon passes in front of the "
    "Sun as seen from the Earth. A lunar eclipse can only happen at full moon, when the Moon moves through the "
    "Earth's shadow. When the Sun and the Moon line up, at new moon and at full moon, their pulls add together and "
    "produce spring tides with the largest range between high and low water.")
LUNAR = "A lunar eclipse can only happen at full moon, when the Moon moves through the Earth's shadow."
TIDES = ("When the Sun and the Moon line up, at new moon and at full moon, their pulls add together and produce "
         "spring tides with the largest range between high and low water.")
WANING = "After full moon the lit part shrinks, and the Moon is waning through the waning gibbous, last quarter and waning crescent phases."

# The InstructLab synonyms leaf's seed questions (compositional_skills/linguistics/synonyms).
SYNONYM_SEEDS = ["List a synonym for the word attend.",
                 "List two synonyms for the word attend and separate with newline.",
                 "List three synonyms for the word attend and separate with newline.",
                 "List four synonyms for the word attend and separate with newline.",
                 "List five synonyms for the word beautiful and separate with newline.",
                 "List five antonyms for the word attend and separate with newline."]


@pytest.mark.parametrize(("question", "answer", "why"), [
    ("How many full moons a year are there?", TIDES, "how many"),  # the real teacher's rows, labelled junk
    ("What is the difference between lunar and solar eclipses?", LUNAR, "does not say: solar"),
    ("Is the Moon's orbit that of a planet?", "It is longer than the 27.3 days the Moon needs.", "yes/no"),
    ("What happens when the Moon is at a quarter moon?",
     "A solar eclipse can only happen at new moon, when the Moon passes in front of the Sun as seen from the Earth.",
     "does not say: quarte"),
    ("What happens to the Moon during full moon?", WANING, "as well or better"),  # fits the full-moon sentence too
    ("How long does it take for the moon to wax?",  # the real teacher: "half of the disc" is no duration
     "Between new moon and full moon the lit part grows, and the Moon is said to be waxing: first a waxing crescent, "
     "then the first quarter, when exactly half of the disc is lit.", "how long"),
    ("When the Moon is full, it's waxing.",  # the real teacher's "question" (it ended on "..."), and false
     "Between new moon and full moon the lit part grows, and the Moon is said to be waxing.", "not a question"),
    ("Why is the sky over Venus yellow?", "Half of the Moon is always lit by the Sun.", "why"),
])
def test_a_sentence_that_does_not_answer_its_question_is_named(question, answer, why):
    found = unanswered(question, answer, MOON)
    assert found is not None and why in found


def test_a_how_long_question_is_answered_by_a_duration():
    assert unanswered("How long does a synodic month last?", "A complete cycle of phases, from one new moon to the "
                      "next, is called a synodic month and lasts about 29.5 days.", MOON) is None


@pytest.mark.parametrize("question", ["What is a lunar eclipse?", "When can a lunar eclipse happen?",
                                      "Through what does the Moon move during a lunar eclipse?"])
def test_a_question_only_its_sentence_answers_passes(question):
    assert unanswered(question, LUNAR, MOON) is None


def test_a_sentence_that_leans_on_the_one_before_is_joined_to_it():
    found = answer_sentences("A synodic month lasts about 29.5 days. It is longer than the 27.3 days of an orbit. "
                             "Tides follow the Moon's pull on the oceans of the Earth.")
    assert found == ["A synodic month lasts about 29.5 days. It is longer than the 27.3 days of an orbit.",
                     "Tides follow the Moon's pull on the oceans of the Earth."]



def test_a_heading_is_never_glued_to_the_sentence_under_it():
    # the real demo's /generate kept "Caring for trees An arborist plants, prunes and cares for trees."
    document = ("# Caring for trees\n\nAn arborist plants, prunes and cares for trees. It is a skilled trade.\n\n"
                "## Pruning young trees in the winter months\nPrune a young tree in late winter, while it is dormant.")
    assert answer_sentences(document) == ["An arborist plants, prunes and cares for trees. It is a skilled trade.",
                                          "Prune a young tree in late winter, while it is dormant."]
    assert sentences(document) == ["An arborist plants, prunes and cares for trees.",
                                   "Prune a young tree in late winter, while it is dormant."]

@pytest.mark.parametrize("question", [
    "What is the origin of the word 'fantasy'?",  # what the real teacher asked for the synonyms leaf
    "What is the capital of France?",
    "How to list the synonyms for a word.",
    "What is the name of the largest language model that can generate a list of synonyms for the word 'beautiful'?",
    "List the capitals of Europe.",  # opens right, but is not about synonyms of a word
])
def test_instructions_off_the_leafs_task_are_dropped(question):
    assert off_task(question, TaskShape.of(SYNONYM_SEEDS, "to teach a large language model to list synonyms")) is not None


@pytest.mark.parametrize("question", ["List ten synonyms for the word river and separate with newline.",
                                      "List five synonyms for the word city and separate with newline.",
                                      "List three synonyms for the word quick."])
def test_instructions_in_the_seeds_form_about_a_new_word_are_on_task(question):
    assert off_task(question, TaskShape.of(SYNONYM_SEEDS, "to teach a large language model to list synonyms")) is None


def test_every_seed_passes_its_own_leafs_task_check():
    varied = ["What is a synonym for happy?", "Give me a word that means the same as quick.",
              "Which word can replace big in a sentence?", "Suggest another word for tired."]
    for seeds in (SYNONYM_SEEDS, varied):
        task = TaskShape.of(seeds, "synonyms")
        assert all(off_task(q, task) is None for q in seeds)
    assert TaskShape.of(varied, "synonyms").opening is None


def test_the_question_grammar_forces_the_seeds_opening_only_when_it_is_a_plain_word():
    assert question_schema("List")["properties"]["question"]["pattern"].startswith("^List ")
    assert "pattern" not in question_schema(None)["properties"]["question"]
    assert "pattern" not in question_schema('Li"st')["properties"]["question"]



def test_seeds_that_end_on_in_excuse_exactly_that_and_not_an_answer_cut_at_is():
    leaf = leaf_from_yaml("compositional_skills/linguistics/synonyms/qna.yaml", SYNONYMS_LEAF)
    rules = SeedRules.of(leaf, GenerateParams())
    assert rules.excused["incomplete:answer"] == {"ends on: in", "ends on: at", "no final stop"}  # "take part in"
    assert unfinished("The answer to this question is") - rules.excused["incomplete:answer"] == {"ends on: is"}
    assert not unfinished("Three synonyms for Quick are\nfast\nrapid\nswift, as in")  - {"ends on: in"}


def test_a_cut_answer_is_dropped_on_a_leaf_whose_seeds_end_on_in_and_says_why():
    leaf = leaf_from_yaml("compositional_skills/linguistics/synonyms/qna.yaml", SYNONYMS_LEAF)
    answers = ["The answer to this question is", "Synonym for River is take part in"]

    def teacher(stage, text, i):
        if stage == "question":
            return json.dumps({"question": "List a synonym for the word "  # one: the answers' shape (see list-shape)
                                           f"{['river', 'city', 'ocean', 'tree', 'road'][i % 5]}."})
        return json.dumps({"answer": answers[i % 2]})

    pipeline = LeafPipeline(leaf, ScriptedBackend(teacher), GenerateParams(samples=3, dedupe_threshold=1.0))
    rows = list(pipeline.run())
    assert rows and {r["messages"][2]["content"] for r in rows} == {answers[1]}
    dropped = pipeline.stats.filters.as_dict()["incomplete:answer"]["dropped"]
    assert dropped[0]["answer"] == answers[0] and dropped[0]["why"] == "ends on: is"


def test_text_that_trails_off_is_unfinished_and_a_full_stop_is_not():
    assert unfinished("When the Moon is full, it's waxing...") == {"trails off: ..."}
    assert not unfinished("Name the phases the Moon passes through after it is full.")


@pytest.mark.parametrize(("text", "loops"), [
    ("The answer is...The answer is not. The answer is...The answer is not. The answer is...", True),  # real
    (" ".join(["Here is how to list all synonyms for a word and"] * 4) + " done.", True),
    ("Five synonyms for Quick are\nfast\nrapid\nswift\nspeedy\nbrisk", False),
    ("A lunar eclipse can only happen at full moon. A solar eclipse can only happen at new moon.", False),
])
def test_text_that_loops_is_repetitive(text, loops):
    assert repetitive(text) is loops


def test_a_new_instruction_answered_with_a_seeds_answer_is_a_copy():
    leaf = leaf_from_yaml("compositional_skills/linguistics/synonyms/qna.yaml", SYNONYMS_LEAF)
    copied = "Syntax for brave is take part in"  # the real teacher, asked for synonyms of "brave"
    written = "Three synonyms for Brave are\ncourageous\nbold\nfearless"

    def teacher(stage, text, i):
        if stage == "question":
            return json.dumps({"question": f"List three synonyms for the word {['brave', 'calm', 'kind'][i % 3]}."})
        return json.dumps({"answer": [copied, written][i % 2]})

    pipeline = LeafPipeline(leaf, ScriptedBackend(teacher), GenerateParams(samples=2, dedupe_threshold=0.7))
    rows = list(pipeline.run())
    assert rows and {r["messages"][2]["content"] for r in rows} == {written}
    assert pipeline.stats.filters.as_dict()["copies-seed"]["dropped"][0]["answer"] == copied


def test_a_one_line_answer_with_no_final_stop_was_cut_but_an_instruction_or_a_list_need_not_stop():
    cut = "A well-crafted ending can also leave readers with a message. There is no one"  # the real teacher's
    assert "no final stop" in unfinished(cut, answer=True)
    assert "no final stop" not in unfinished(cut)  # an instruction: "Give a synonym for the word bright please"
    assert not unfinished("Synonyms for river:\n1. stream\n2. creek", answer=True)
