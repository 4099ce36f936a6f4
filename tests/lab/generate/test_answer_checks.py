"""Round trip, question kinds and list shape, on rows the real SmolLM2-135M teacher wrote (benchmarks/data).

The knowledge rows below passed the round-3 filters; a reviewer labelled the first group junk and
the second fair (benchmarks/generate_quality_labels.yaml). The chunks are the moon-phases leaf's
seed contexts as the benchmark's chunker cut them.
"""

from __future__ import annotations

import json

import pytest

from benchmarks.teacher_replay import ReplayBackend
from lab.generate.answer_shape import ListShape, named_count, off_shape
from lab.generate.backends import ScriptedBackend
from lab.generate.backends.base import Completion
from lab.generate.config import GenerateParams
from lab.generate.consistency import key_words, unanswered
from lab.generate.pipeline import LeafPipeline
from lab.generate.prompts import QUESTION_SCHEMA, knowledge_question_schema
from lab.taxonomy.leaf import leaf_from_yaml
from tests.lab.generate.conftest import SYNONYMS_LEAF

PHASES = (
    "The Moon does not make its own light. Half of it is always lit by the Sun, and the phase we\nsee depends on how "
    "much of that lit half faces the Earth. At new moon the Moon sits roughly\nbetween the Earth and the Sun, so its "
    "lit side faces away from us. At full moon the Earth is\nroughly between the Sun and the Moon, and the whole lit "
    "side faces us.\n\nA complete cycle of phases, from one new moon to the next, is called a synodic month and\nlasts "
    "about 29.5 days. It is longer than the 27.3 days the Moon needs to circle the Earth\nonce relative to the stars, "
    "because the Earth moves along its own orbit in the meantime and\nthe Moon has to travel a little further to line "
    "up with the Sun again.\n\nBetween new moon and full moon the lit part grows, and the Moon is said to be waxing: "
    "first\na waxing crescent, then the first quarter, when exactly half of the disc is lit, then a\nwaxing gibbous "
    "phase. After full moon the lit part shrinks, and the Moon is waning through\nthe waning gibbous, last quarter and "
    "waning crescent phases.")
ECLIPSES = (
    "A solar eclipse can only happen at new moon, when the Moon passes in front of the Sun as\nseen from the Earth. "
    "A lunar eclipse can only happen at full moon, when the Moon moves\nthrough the Earth's shadow. Eclipses do not "
    "happen every month because the Moon's orbit is\ntilted by about five degrees to the plane of the Earth's orbit."
    "\n\nThe Moon's gravity raises tides in the Earth's oceans. When the Sun and the Moon line up, at\nnew moon and at "
    "full moon, their pulls add together and produce spring tides with the\nlargest range between high and low water. "
    "At the quarter phases they pull at right angles\nand the weaker neap tides follow.")
SYNODIC = ("A complete cycle of phases, from one new moon to the next, is called a synodic month and lasts about 29.5 "
           "days. It is longer than the 27.3 days the Moon needs to circle the Earth once relative to the stars, because "
           "the Earth moves along its own orbit in the meantime and the Moon has to travel a little further to line up "
           "with the Sun again.")
HALF_LIT = "Half of it is always lit by the Sun, and the phase we see depends on how much of that lit half faces the Earth."
WAXING = ("Between new moon and full moon the lit part grows, and the Moon is said to be waxing: first a waxing crescent, "
          "then the first quarter, when exactly half of the disc is lit, then a waxing gibbous phase.")
SOLAR = "A solar eclipse can only happen at new moon, when the Moon passes in front of the Sun as seen from the Earth."
GRAVITY = "The Moon's gravity raises tides in the Earth's oceans."
LUNAR = "A lunar eclipse can only happen at full moon, when the Moon moves through the Earth's shadow."


@pytest.mark.parametrize(("question", "answer", "source", "why"), [
    ("What is the Moon's orbit around Earth?", SYNODIC, PHASES, "second sentence"),
    ("What is the Sun's phase?", HALF_LIT, PHASES, "nearly as well"),
    ("How does the Moon's phase change over night?", WAXING, PHASES, "nearly as well"),
    ("What causes the Moon to appear in the sky during a solar eclipse?", SOLAR, ECLIPSES, "asks why"),
    ("When is the next solar eclipse?", SOLAR, ECLIPSES, "relative to now"),
    ("What causes the Moon's gravity to rise tides, and how does it affect the Earth?", GRAVITY, ECLIPSES,
     "two things"),
])
def test_rows_a_reviewer_called_junk_are_named_with_the_reason(question, answer, source, why):
    found = unanswered(question, answer, source)
    assert found is not None and why in found


@pytest.mark.parametrize(("question", "answer", "source"), [
    ("What is the gravitational impact on the Earth's oceans?", GRAVITY, ECLIPSES),
    ("How does the Moon generate its own light?", "The Moon does not make its own light.", PHASES),
    ("How can you identify a lunar eclipse in the sky?", LUNAR, ECLIPSES),
    ("How does a solar eclipse occur?", SOLAR, ECLIPSES),
    ("How does the Moon's gravity affect the Earth's tides?", GRAVITY, ECLIPSES),
    ("How long does it take for the Moon to return to the same position that it started the cycle from?", SYNODIC,
     PHASES),
])
def test_rows_a_reviewer_accepted_still_pass(question, answer, source):
    assert unanswered(question, answer, source) is None


def test_a_when_question_about_a_dated_event_may_name_the_date():
    assert unanswered("When is the next solar eclipse?", "The next solar eclipse is on 12 August 2026.",
                      "The next solar eclipse is on 12 August 2026. Tides follow the Moon.") is None


SYNONYM_SEEDS = [
    ("List a synonym for the word attend.", "Synonym for Attend is take part in\n"),
    ("List two synonyms for the word attend and separate with newline.", "Two synonyms for Attend are\n\ntake part in\n\n"
     "be present at\n"),
    ("List five synonyms for the word beautiful and separate with newline.", "Five synonyms for Beautiful are\n"
     "attractive\npretty\ngorgeous\ngood-looking\nhandsome\n"),
]


@pytest.mark.parametrize(("question", "answer", "why"), [
    ("List the synonyms for the word rain with the specified function.", "Rain is a natural chemical that occurs in "
     "the environment.", "one line"),  # the real teacher: names no count, and answers in prose
    ("List the synonyms for the word money.", "Synonyms for Money are\ncash\nfunds", None),
    ("List five synonyms for the word money.", "The answer to the question of how money is made is money, money is "
     "money, money is a currency.", "has 1 lines"),  # the real teacher's prose
    ("List 5 synonyms for the word river.", "Five synonyms for River are\nriver\nstream\nbrook\ncreek\nflow",
     "own word: river"),
    ("List three synonyms for the word quick.", "Three synonyms for Quick are\nfast\nfast\nrapid", "twice"),
    ("List three synonyms for the word quick.", "Three synonyms for Quick are\nfast\nrapid\nswift", None),
    ("List a synonym for the word brave.", "Synonym for Brave is courageous", None),
])
def test_a_list_answer_has_the_count_the_instruction_names(question, answer, why):
    found = off_shape(question, answer, ListShape.of(SYNONYM_SEEDS), {"money", "river", "quick", "brave"})
    assert found == why or (why is not None and found is not None and why in found)


def test_seeds_without_varying_counts_give_no_shape_and_seeds_pass_their_own():
    haiku = [("Write a haiku about rain.", "Soft rain on the roof\nthe gutters sing\nnight listens"),
             ("Write a haiku about a cat.", "A cat on the wall\nsun warm on grey fur\nit blinks twice")]
    assert ListShape.of(haiku) is None  # "a" each time: no count that varies
    assert ListShape.of([("What is a synonym for happy?", "Joyful.")]) is None
    assert named_count("List 1000 words") is None and named_count("List ten synonyms") == 10
    shape = ListShape.of(SYNONYM_SEEDS)
    assert shape is not None and all(off_shape(q, a, shape, set()) is None for q, a in SYNONYM_SEEDS)



def test_the_list_shape_filter_reports_seen_kept_and_the_rows_it_dropped():
    leaf = leaf_from_yaml("compositional_skills/linguistics/synonyms/qna.yaml", SYNONYMS_LEAF)
    words = ["river", "city", "ocean", "tree", "road", "lamp"]
    prose = "The answer to the question of synonyms is a word that means the same."

    def teacher(stage, text, i):
        if stage == "question":
            return json.dumps({"question": f"List two synonyms for the word {words[i % len(words)]}."})
        return json.dumps({"answer": [prose, "Two synonyms for It are\nstream\ncreek"][i % 2]})

    pipeline = LeafPipeline(leaf, ScriptedBackend(teacher), GenerateParams(samples=2, dedupe_threshold=1.0))
    rows = list(pipeline.run())
    assert rows and all(r["messages"][2]["content"].endswith("creek") for r in rows)
    counts = pipeline.stats.filters.as_dict()["list-shape"]
    assert counts["seen"] > counts["kept"] > 0
    assert counts["dropped"][0]["answer"] == prose and "asks for 2" in counts["dropped"][0]["why"]


def test_a_full_replay_answers_token_counts_without_loading_the_teacher(tmp_path):
    class Teacher:
        context_length = 2048

        def count_tokens(self, text):
            return len(text)

        def complete(self, prompts, **kw):
            return [Completion("{}", 1, 1, "stop") for _ in prompts]

    path = tmp_path / "replies.jsonl"
    first = ReplayBackend(path, Teacher, teacher_id="t")
    assert first.count_tokens("abc") == 3 and first.context_length == 2048

    def no_model():
        raise AssertionError("the teacher was loaded")

    again = ReplayBackend(path, no_model, teacher_id="t")
    assert again.count_tokens("abc") == 3 and again.context_length == 2048


@pytest.mark.parametrize(("answer", "source", "expected"), [
    (GRAVITY, ECLIPSES, ["gravity", "raises", "oceans"]),
    (SOLAR, ECLIPSES, ["solar", "passes", "front"]),
    (LUNAR, ECLIPSES, ["lunar", "moves", "shadow"]),
])
def test_key_words_are_the_answers_rarest_in_its_chunk_as_it_spells_them(answer, source, expected):
    assert key_words(answer, source) == expected


def test_key_words_of_a_sentence_with_no_safe_word_are_none():
    assert key_words("It is so.", "It is so. Or not.") == []


def test_the_question_grammar_forces_one_key_word_and_a_question_mark():
    import re

    pattern = knowledge_question_schema(["gravity", "oceans"])["properties"]["question"]["pattern"]
    assert re.match(pattern, "What does the Moon's gravitational pull raise?")
    assert re.match(pattern, "What happens to the Earth's Ocean?")  # any ending of the stem
    assert not re.match(pattern, "What is the Moon's orbit?")  # none of the words
    assert not re.match(pattern, "What does gravity do.")  # no question mark
    assert knowledge_question_schema(['bad"word']) == QUESTION_SCHEMA
    grammar = pytest.importorskip("llama_cpp.llama_grammar")  # the local teacher's grammar compiler accepts it
    assert "[Gg]" in grammar.json_schema_to_gbnf(json.dumps(knowledge_question_schema(["gravit"])))


def test_a_freeform_instruction_is_forced_to_name_its_topic_after_the_seeds_opening():
    import re

    from lab.generate.prompts import question_schema

    pattern = question_schema("List", "river")["properties"]["question"]["pattern"]
    assert re.match(pattern, "List ten synonyms for the word River and separate with newline.")
    assert not re.match(pattern, "List five antonyms for the word attend.")  # the real teacher's seed copy
    assert not re.match(pattern, "Name a river.")
    assert re.match(question_schema(None, "rain")["properties"]["question"]["pattern"], "Write a haiku about rain.")
    assert question_schema(None, 'ra"in') == QUESTION_SCHEMA


@pytest.mark.parametrize(("question", "answer", "why"), [
    # the real teacher, its question forced to end with "?" (benchmarks/data, chickadee leaf)
    ("Late summer, some young birds sing only a single note...?", "In late summer, some young birds sing only a single "
     "note.", "not a question"),
    ("The avian keratin disorder is...?", "Black-capped chickadees are also known to be affected by avian keratin "
     "disorder.", "not a question"),
])
def test_a_statement_with_a_question_mark_is_no_question(question, answer, why):
    found = unanswered(question, answer, answer + " Sunflower seeds are readily taken from bird feeders.")
    assert found is not None and why in found


def test_text_that_trails_off_before_its_question_mark_is_unfinished():
    from lab.generate.shape import unfinished

    assert unfinished("The avian keratin disorder is...?") == {"trails off: ..."}
    assert unfinished("In which phase can a solar eclipse occur?") == set()


@pytest.mark.parametrize(("question", "answer", "why"), [
    ("What is the weather like in late summer in late summer 2010 in the state of Maine?",  # the real teacher
     "In late summer, some young birds sing only a single note.", "does not say: 2010, maine"),
    ("How do the young birds in late summer sing only a single note?",
     "In late summer, some young birds sing only a single note.", "only restates"),
])
def test_a_question_with_its_own_facts_or_answered_by_itself_is_dropped(question, answer, why):
    source = answer + " Sunflower seeds are readily taken from bird feeders. Juveniles are similar to adults."
    found = unanswered(question, answer, source)
    assert found is not None and why in found
