"""The issue-12 filters on the junk a real 135M teacher wrote, and on fair rows they must keep."""

from __future__ import annotations

import json

import pytest

from lab.generate.backends import ScriptedBackend
from lab.generate.config import GenerateParams
from lab.generate.grounding import unsupported
from lab.generate.pipeline import LeafPipeline
from lab.generate.safety import unsafe_rule
from lab.generate.shape import looks_finished, not_echo
from lab.taxonomy.leaf import leaf_from_yaml

MOON = ("A complete cycle of phases, from one new moon to the next, is called a synodic month and lasts "
        "about 29.5 days. It is longer than the 27.3 days the Moon needs to circle the Earth once relative "
        "to the stars. The Moon's orbit is tilted by about five degrees.")

SENTENCE_LEAF = b"""version: 3
created_by: tester
task_description: List synonyms of an English word.
seed_examples:
  - question: List a synonym for the word attend.
    answer: A synonym for attend is be present at.
  - question: List two synonyms for the word happy.
    answer: Two synonyms for happy are joyful and glad.
  - question: Give a synonym for the word quick.
    answer: A synonym for quick is rapid.
  - question: Name a synonym for the word big.
    answer: A synonym for big is large.
  - question: Give two synonyms for the word cold.
    answer: Two synonyms for cold are chilly and icy.
"""


@pytest.mark.parametrize(("question", "answer"), [
    ("The answer is", "The answer is"),  # the real teacher's echo
    ("What is a synonym for the word beautiful?", "What is a synonym for the word beautiful?"),
    ("Rewrite the sentence: the cat sat on the mat.", "the cat sat on the mat"),
])
def test_answers_that_repeat_their_question_are_echoes(question, answer):
    assert not not_echo(answer, question)


@pytest.mark.parametrize(("question", "answer"), [
    ("Which is bigger, the Sun or the Moon?", "The Sun."),  # a short span of a choice question is an answer
    ("What is a synonym for happy?", "A synonym for happy is joyful."),
])
def test_answers_that_only_reuse_words_of_the_question_are_not_echoes(question, answer):
    assert not_echo(answer, question)


@pytest.mark.parametrize("text", [
    "The answer is",
    "The sentence can be rewritten as",
    "The sentence can be rewritten as:",
    "What is the best way to list the synonyms for the word",
    "List two synonyms for the word happy and separate with",
    'What is the shortest response to the question "',
    "The phases are (new moon, first quarter",
    "Steps:\n1.",
    "",
])
def test_text_cut_mid_phrase_is_not_finished(text):
    assert not looks_finished(text)


@pytest.mark.parametrize("text", [
    "What is it made of?",
    "The answer is 7.",
    "List two synonyms for the word attend and separate with newline.",
    "Grey rain on the street\numbrellas bloom at the lights\ncoffee steam rises",
    "About 29.5 days, the time from one new moon to the next.",
])
def test_finished_text_is_kept(text):
    assert looks_finished(text)


@pytest.mark.parametrize(("answer", "missing"), [
    ("A synodic month lasts about 30 days.", ["30"]),  # contradicts the chunk's 29.5
    ("The Moon circles the Earth in seven days.", ["7"]),
    ("The phases were named by NASA in 1960.", ["1960", "nasa"]),
])
def test_numbers_and_names_the_chunk_lacks_are_unsupported(answer, missing):
    assert unsupported(answer, MOON) == missing


@pytest.mark.parametrize("answer", [
    "About 29.5 days.",
    "The Moon needs 27.3 days to circle the Earth relative to the stars.",
    "The orbit is tilted by about 5 degrees.",  # a digit for the chunk's number word
    "1. New moon\n2. Full moon",  # list markers are not facts
])
def test_answers_the_chunk_supports_pass(answer):
    assert unsupported(answer, MOON) == []


@pytest.mark.parametrize(("text", "rule"), [
    ("Here are the steps to make a pipe bomb at home.", "weapons or drugs: how to make"),
    ("You should kill yourself.", "self-harm encouragement"),
    ("We must kill all the immigrants.", "incitement to violence"),
])
def test_unsafe_text_breaks_a_named_rule(text, rule):
    assert unsafe_rule("a fine question?", text) == rule


@pytest.mark.parametrize("text", [
    "Chickadees kill insects and cache seeds for the winter.",
    "Be careful not to cut yourself when you prune a tree.",
    "Explosives were used to build the railway tunnel.",
    None,
])
def test_ordinary_text_breaks_no_rule(text):
    assert unsafe_rule(text) is None


def run(leaf, backend, **overrides):
    pipeline = LeafPipeline(leaf, backend, GenerateParams().with_overrides(overrides))
    return list(pipeline.run()), pipeline.stats


def junk_teacher(answers, questions=None):
    """A teacher that asks fine, distinct questions (or the given ones) and answers with `answers` in turn."""
    def reply(stage, text, i):
        if stage == "question":
            qs = questions or [f"Give a synonym for the word number {i} please."]
            return json.dumps({"question": qs[i % len(qs)]})
        return json.dumps({"answer": answers[i % len(answers)]})
    return ScriptedBackend(reply)


def test_one_word_echoed_and_cut_answers_are_dropped_and_each_filter_shows_two(freeform_leaf):
    leaf = leaf_from_yaml("compositional_skills/synonyms/qna.yaml", SENTENCE_LEAF)
    answers = ["True", "adjective", "Give a synonym for the word", "The sentence can be rewritten as",
               "A synonym for it is fine."]
    questions = ["Give a synonym for the word", "Give a synonym for the word tall.", "Name a synonym for small.",
                 "Give a synonym for the word short.", "Give a synonym for the word tiny."]
    rows, stats = run(leaf, junk_teacher(answers, questions), samples=3, batch_size=5, collapse_min_attempts=100,
                      dedupe_threshold=1.0)
    counts = stats.filters.as_dict()
    assert counts["incomplete:question"]["kept"] < counts["incomplete:question"]["seen"]
    assert counts["length:answer"]["dropped"][0]["answer"] in ("True", "adjective")
    assert len(counts["length:answer"]["dropped"]) == 2
    assert any(d["answer"] == "The sentence can be rewritten as" for d in counts["incomplete:answer"]["dropped"])
    assert [r["messages"][2]["content"] for r in rows] == ["A synonym for it is fine."] * len(rows)


def test_a_leaf_whose_seeds_answer_in_one_word_keeps_one_word_answers(freeform_leaf):
    rows, stats = run(freeform_leaf, junk_teacher(["Tiny."]), samples=2, dedupe_threshold=1.0)
    assert [r["messages"][2]["content"] for r in rows] == ["Tiny.", "Tiny."]


def test_echoed_answers_are_dropped(freeform_leaf):
    echo = "What is the answer to this one?"
    rows, stats = run(freeform_leaf, junk_teacher([echo], [echo]), samples=2, collapse_min_attempts=4,
                      dedupe_threshold=1.0)
    assert rows == [] and stats.filters.counts["echo"][1] == 0 < stats.filters.counts["echo"][0]


def test_a_reply_cut_at_max_new_tokens_counts_as_truncated_not_unparseable(freeform_leaf):
    long_answer = json.dumps({"answer": " ".join(["word"] * 50)})
    backend = ScriptedBackend(lambda stage, text, i: json.dumps({"question": f"Name a synonym for word {i}?"})
                              if stage == "question" else long_answer)
    rows, stats = run(freeform_leaf, backend, samples=2, max_new_tokens=10, collapse_min_attempts=4)
    assert rows == []
    seen, kept = stats.filters.counts["truncated:answer"]
    assert seen > 0 and kept == 0
    assert not any(reason.startswith("answer") for reason in stats.filters.parse_failures)
    assert stats.filters.examples["truncated:answer"][0]["reply"].startswith('{"answer": "word')


def test_knowledge_answers_with_numbers_not_in_the_chunk_are_dropped(knowledge_leaf):
    def reply(stage, text, i):
        answer = ["It lasts about 45 days.", "It lasts about 12 days, as the chunk says it does."][i % 2]
        return json.dumps({"question": f"How long does thing {i} last?", "answer": answer})

    params = GenerateParams(samples=2, dedupe_threshold=1.0, knowledge_answers="write")
    pipeline = LeafPipeline(knowledge_leaf, ScriptedBackend(reply), params,
                            [("doc.md", "The thing lasts as long as the chunk says it does, about 12 days.")])
    rows = list(pipeline.run())
    grounding = pipeline.stats.filters.as_dict()["grounding"]
    assert grounding["seen"] > grounding["kept"] and "45" in grounding["dropped"][0]["why"]
    assert rows and all("45" not in r["messages"][-1]["content"] for r in rows)


def test_unsafe_rows_are_dropped_by_the_rule_set_without_a_judge(freeform_leaf):
    rows, stats = run(freeform_leaf, junk_teacher(["Mix these to make a pipe bomb quickly.", "Joyful."]),
                      samples=2, dedupe_threshold=1.0)
    assert [r["messages"][2]["content"] for r in rows] == ["Joyful.", "Joyful."]
    assert stats.filters.examples["safety"][0]["why"] == "weapons or drugs: how to make"


@pytest.mark.parametrize(("share", "carries"), [(1.0, True), (0.0, False)])
def test_knowledge_rows_carry_their_chunk_in_the_user_turn_as_asked(knowledge_leaf, share, carries):
    chunk = "Mars is the fourth planet from the Sun and has two small moons named Phobos and Deimos."
    pipeline = LeafPipeline(knowledge_leaf, ScriptedBackend(), GenerateParams(samples=2, knowledge_document_share=share),
                            [("doc.md", chunk)])
    for row in pipeline.run():
        user = row["messages"][1]["content"]
        assert user.startswith(chunk) is carries
        if carries:
            assert user.endswith(row["metadata"]["question"]) and row["metadata"]["document_in_prompt"]


def test_extracted_knowledge_answers_are_sentences_of_the_chunk_and_off_topic_questions_go(knowledge_leaf):
    chunk = ("Mars is the fourth planet from the Sun and has two small moons. "
             "The moons of Mars are named Phobos and Deimos after figures of myth.")
    questions = ["What are the moons of Mars named after?", "Why is the sky over Venus yellow today?"]
    # the fair question for the sentence about names; for the other sentence an off-topic one
    backend = ScriptedBackend(lambda stage, text, i: json.dumps(
        {"question": questions[0] if "named" in text.rsplit("Answer:", 1)[-1] else questions[1]}))
    pipeline = LeafPipeline(knowledge_leaf, backend, GenerateParams(samples=2, dedupe_threshold=1.0,
                                                                    collapse_min_attempts=8), [("doc.md", chunk)])
    rows = list(pipeline.run())
    assert rows and all(r["messages"][-1]["content"] in chunk for r in rows)
    assert {r["messages"][1]["content"].split("\n\n")[-1] for r in rows} <= {questions[0]}
    assert pipeline.stats.filters.counts["off-topic"][1] < pipeline.stats.filters.counts["off-topic"][0]


def test_only_finished_sentences_of_plain_text_can_be_answers():
    from lab.generate.shape import on_topic, sentences

    text = ("The black-capped chickadee is a member of the [Paridae](Paridae \"wikilink\") "
            "[family](family_(biology) \"wikilink\"), also known as tits. Short one. It feeds on")
    assert sentences(text) == ["The black-capped chickadee is a member of the Paridae family, also known as tits."]
    assert not on_topic("How do lunar eclipses occur?", "The Moon's gravity raises tides in the Earth's oceans.")
    assert on_topic("When do lunar eclipses happen?", "A lunar eclipse can only happen at full moon.")


MOON_PHASES = ("The Moon does not make its own light. At new moon the Moon sits roughly between the Earth and the "
               "Sun. At full moon the Earth is roughly between the Sun and the Moon, and the whole lit side faces us. "
               "When the Sun and the Moon line up, their pulls add together and produce spring tides. "
               "A lunar eclipse can only happen at full moon, when the Moon moves through the Earth's shadow.")


@pytest.mark.parametrize(("question", "answer", "ok"), [
    ("How many full moons a year are there?",  # wants a number; gets tides
     "When the Sun and the Moon line up, their pulls add together and produce spring tides.", False),
    ("How long is a full moon?",
     "At full moon the Earth is roughly between the Sun and the Moon, and the whole lit side faces us.", False),
    ("Is the Moon's orbit that of a planet?", "The Moon does not make its own light.", False),
    ("What happens when the Moon's at a quarter moon?",  # "Moon's" is the chunk's everywhere-word too
     "A lunar eclipse can only happen at full moon, when the Moon moves through the Earth's shadow.", False),
    ("What is a lunar eclipse?",
     "A lunar eclipse can only happen at full moon, when the Moon moves through the Earth's shadow.", True),
    ("What do the pulls of the Sun and the Moon produce?",
     "When the Sun and the Moon line up, their pulls add together and produce spring tides.", True),
])
def test_true_sentences_about_something_else_are_off_topic(question, answer, ok):
    from lab.generate.shape import on_topic

    assert on_topic(question, answer, MOON_PHASES) is ok


OPEN_TASK_LEAF = b"""version: 3
created_by: tester
task_description: Questions and answers about the craft of storytelling.
seed_examples:
  - question: What is the core element of storytelling?
    answer: The core element of storytelling is a narrative that connects with the audience.
  - question: How important are characters in a story?
    answer: Characters drive the plot forward and connect the audience to the story.
  - question: What role does setting play in a story?
    answer: The setting gives the time and place, and shapes the story's mood.
  - question: How do you build tension in a story?
    answer: Tension is built by raising the stakes and placing obstacles in the characters' paths.
  - question: Why is the climax crucial in a story?
    answer: The climax is the moment of greatest tension, where the main conflict turns.
"""


def test_an_open_tasks_answers_must_say_what_their_question_names_and_no_topic_is_forced():
    from lab.taxonomy.leaf import leaf_from_yaml as read

    leaf = read("compositional_skills/writing/freeform/storytelling/qna.yaml", OPEN_TASK_LEAF)
    pairs = {"What is storytelling exactly?": "Sketching is the practice of drawing without words, quickly and loosely.",
             "How do you write a memorable ending to a story?":
                 "A memorable ending resolves the story's conflict and leaves the reader with something to think about."}
    asked_questions = iter(pairs)
    prompts: list[str] = []

    def reply(stage, text, i):
        prompts.append(text)
        if stage == "question":
            return json.dumps({"question": next(asked_questions, "How do you write a memorable ending to a story?")})
        return json.dumps({"answer": next(answer for question, answer in pairs.items() if question in text)})

    pipeline = LeafPipeline(leaf, ScriptedBackend(reply), GenerateParams(samples=2, batch_size=2, max_attempts_factor=1))
    rows = list(pipeline.run())
    assert [r["messages"][1]["content"] for r in rows] == ["How do you write a memorable ending to a story?"]
    assert pipeline.stats.filters.counts["off-topic"] == [2, 1]  # every seed answer names its question's words
    assert not any("Make it about" in p for p in prompts)


def test_the_answer_names_the_question_check_is_off_where_a_seed_answer_does_not(freeform_leaf):
    from lab.generate.pipeline import SeedRules

    assert not SeedRules.of(freeform_leaf, GenerateParams()).answers_name_the_question  # "joyful, glad"


@pytest.mark.parametrize(("text", "loops"), [
    ("To do this, you need to know what to show and what to show.", True),  # the real teacher's babble
    # a parallel list is no loop, though a looping answer can look the same ("can be a reflection of" x4)
    ("It should have a clear plot. It should have a voice. It should have a hero. It should have a setting.", False),
    ("The tides grow more and more, again and again, as the Sun and the Moon line up.", False),
    ("Salt and pepper, salt and vinegar.", False),
    ("It is a balance of pacing, pacing, pacing, and a voice that is both engaging and engaging.", True),
    ("It ran faster and faster, and we cared less and less.", False),
])
def test_answers_that_say_a_phrase_again_and_again_loop(text, loops):
    from lab.generate.shape import repetitive

    assert repetitive(text) is loops


@pytest.mark.parametrize(("question", "fits"), [
    ("How do you craft a compelling climax?", True),
    ("What is a climax? How does it add to the story?", False),
    ("What is the key to storytelling, and how can it be achieved through dialogue?", False),
    ("The best way to make a story funny is to make it as funny as possible.", False),
])
def test_where_every_seed_asks_one_question_a_new_instruction_must_too(question, fits):
    from lab.generate.consistency import TaskShape, off_task

    task = TaskShape.of(["What is the core element of storytelling?", "How do you build tension in a story?",
                         "Why is the climax crucial in a story?"], "storytelling")
    assert task.one_question and (off_task(question, task) is None) is fits
    assert not TaskShape.of(["Write a haiku about rain.", "Write a haiku about snow."], "haiku").one_question


def test_the_answer_stage_can_sample_at_its_own_temperature(freeform_leaf):
    temperatures: dict[str, set[float]] = {}

    class Recording(ScriptedBackend):
        def complete(self, prompts, *, temperature, schema=None, **kwargs):
            temperatures.setdefault((schema or {}).get("title", "text"), set()).add(temperature)
            return super().complete(prompts, temperature=temperature, schema=schema, **kwargs)

    list(LeafPipeline(freeform_leaf, Recording(), GenerateParams(samples=2, answer_temperature=0.2)).run())
    assert temperatures == {"question": {0.7}, "answer": {0.2}}


@pytest.mark.parametrize(("question", "opening"), [
    ("How do you write a great climax in a story?", "To write a great climax in a story,"),
    ("How can I make my villain count?", "To make your villain count,"),
    ("How to craft a story's ending?", "To craft a story's ending,"),
    ("How do you think a story should end?", None),  # an opinion, not a method
    ("How does a writer build tension?", None),
    ("What makes a story's beginning effective?", None),
    ('How do you balance "show" and "tell"?', None),  # a quote cannot go into the grammar's pattern as it is
])
def test_a_how_to_question_names_the_opening_of_its_answer(question, opening):
    from lab.generate.prompts import how_to_opening

    assert how_to_opening(question) == opening


@pytest.mark.parametrize("on", [True, False])
def test_a_freeform_answer_to_a_how_to_question_is_made_to_start_with_its_goal(on):
    from lab.taxonomy.leaf import leaf_from_yaml as read

    leaf = read("compositional_skills/writing/freeform/storytelling/qna.yaml", OPEN_TASK_LEAF)
    questions = iter(["How do you write a great climax in a story?", "What is the role of a story's villain?"])
    patterns: dict[str, str | None] = {}

    class Recording(ScriptedBackend):
        def complete(self, prompts, *, schema=None, **kwargs):
            if schema and schema["title"] == "answer":
                for prompt in prompts:
                    asked = prompt[-1]["content"].split("Instruction: ")[1].split("\n")[0]
                    patterns[asked] = schema["properties"]["answer"].get("pattern")
            return super().complete(prompts, schema=schema, **kwargs)

    def reply(stage, text, i):
        if stage == "question":
            return json.dumps({"question": next(questions)})
        opening = "To write a great climax in a story, " if on and "climax" in text.split("Instruction: ")[-1] else ""
        return json.dumps({"answer": opening + "raise the stakes until the story's villain must act and turn the conflict."})

    params = GenerateParams(samples=2, batch_size=2, max_attempts_factor=1, how_to_openings=on)
    rows = list(LeafPipeline(leaf, Recording(reply), params).run())
    assert patterns["What is the role of a story's villain?"] is None
    climax = patterns["How do you write a great climax in a story?"]
    assert climax == ('^To write a great climax in a story, [^"\\\\]+$' if on else None)
    answers = {r["messages"][1]["content"]: r["messages"][2]["content"] for r in rows}
    assert answers["How do you write a great climax in a story?"].startswith("To write" if on else "raise")


@pytest.mark.parametrize(("text", "loops"), [
    # the 135M teacher's, each saying a long phrase twice (the Gopher rules: over 15% of the characters in repeated 5-grams)
    ("The best way to present a climax is to use a dramatic pause where the audience is left to ponder the ending, "
     "and it's often achieved by ending with a dramatic pause where the audience is left to ponder the ending.", True),
    ("The conclusion of a story is a powerful tool that can leave a lasting impression on the audience, reasserting "
     "the story's message and leaving a lasting impression on the readers' minds and hearts for years.", True),
    # the same length, nothing said twice
    ("To write a great climax, raise the stakes step by step, let the hero's flaw meet the villain's plan, and make "
     "the choice the hero takes the one only this hero could make; then let its price show at once.", False),
])
def test_a_long_answer_with_much_of_it_in_repeated_phrases_loops(text, loops):
    from lab.generate.shape import repetitive

    assert repetitive(text) is loops


@pytest.mark.parametrize(("question", "fits"), [
    ("What's the difference between a plot and a narrative?", True),
    ("In what way does setting shape a story?", True),
    ("Achieve something in a story?", False),  # the 135M teacher's: no question
    ("The story of storytelling is a journey of imagination. What makes a story's beginning effective?", False),
])
def test_a_new_question_opens_as_a_question_where_every_seed_is_one(question, fits):
    from lab.generate.consistency import one_question

    assert one_question(question) is fits


def test_an_answer_that_says_its_whole_question_again_echoes_it():
    question = "What makes a story's beginning effective?"
    assert not not_echo(f"{question} The key is to create a narrative that resonates with readers.", question)
    assert not_echo("An effective beginning grabs the audience and hints at the conflict.", question)
    assert not_echo("Sun or Moon? The Sun.", "Sun or Moon?")  # a short question may be said again


def test_an_answer_with_a_seed_answers_sentence_word_for_word_copies_the_seed():
    from lab.taxonomy.leaf import leaf_from_yaml as read

    leaf = read("compositional_skills/writing/freeform/storytelling/qna.yaml", OPEN_TASK_LEAF)
    copied = ("The climax is the moment of greatest tension, where the main conflict turns. It is also a powerful "
              "tool for adding depth and complexity to the narrative of any plot.")
    answers = iter([copied, "A plot's mechanics are cause and effect: each event makes the next one happen."])

    def reply(stage, text, i):
        if stage == "question":
            return json.dumps({"question": ["Can you explain the mechanics of a plot?", "What drives a plot?"][i % 2]})
        return json.dumps({"answer": next(answers)})

    pipeline = LeafPipeline(leaf, ScriptedBackend(reply), GenerateParams(samples=2, batch_size=2, max_attempts_factor=1))
    rows = list(pipeline.run())
    assert [r["messages"][2]["content"] for r in rows] == [
        "A plot's mechanics are cause and effect: each event makes the next one happen."]
    assert pipeline.stats.filters.as_dict()["copies-seed"]["dropped"][0]["answer"] == copied


def test_a_list_that_names_an_item_twice_loops():
    from lab.generate.shape import repetitive

    assert repetitive("It takes characters that readers can love, hate, or love.")
    assert not repetitive("Red, green, and blue, then red again.")


def test_a_stuttered_word_loops_and_a_short_doubled_word_is_left_alone():
    from lab.generate.shape import repetitive

    assert repetitive("It's the narrative's narrative's central plot, which is the story's central theme.")
    assert not repetitive("Knock knock, who is there? He had had enough.")
