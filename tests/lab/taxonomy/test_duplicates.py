"""Duplicate questions: case and punctuation do not matter; near copies need enough shared words."""

from __future__ import annotations

from lab.taxonomy.duplicates import Question, QuestionIndex, normalise, within_leaf


def _qs(*texts):
    return [Question(t, i + 1, 1) for i, t in enumerate(texts)]


def test_case_punctuation_and_spacing_do_not_make_a_question_new():
    assert normalise("  What  is the MOON?! ") == normalise("what is the moon")
    found = within_leaf(_qs("What is the Moon?", "what is the moon"), 0.8)
    assert [(later.line, earlier.line, exact) for later, earlier, exact in found] == [(2, 1, True)]


def test_near_copy_is_found_and_points_at_the_first_similar_question():
    questions = _qs("How long does the Moon take to orbit the Earth?", "Why is the sky blue on a clear day?",
                    "How long does the Moon take to orbit around the Earth?")
    found = within_leaf(questions, 0.8)
    assert [(later.line, earlier.line, exact) for later, earlier, exact in found] == [(3, 1, False)]


def test_short_or_merely_related_questions_are_not_near_duplicates():
    assert within_leaf(_qs("Why?", "Why not?", "What is a cat?", "What is a dog?"), 0.8) == []
    assert within_leaf(_qs("Which planet is the largest in the solar system?",
                           "Which planet is the smallest in the solar system?"), 0.9) == []


def test_index_ignores_the_files_own_questions_and_finds_near_copies_elsewhere():
    index = QuestionIndex(threshold=0.8)
    index.add("a/qna.yaml", ["How long does the Moon take to orbit the Earth?"])
    assert index.match("a/qna.yaml", "How long does the Moon take to orbit the Earth?") is None
    assert index.match("b/qna.yaml", "how long does the moon take to orbit the earth") == (
        "a/qna.yaml", "How long does the Moon take to orbit the Earth?", True)
    near = index.match("b/qna.yaml", "How long does the Moon take to orbit around the Earth?")
    assert near is not None and near[2] is False
    assert index.match("b/qna.yaml", "What colour is the Moon at night?") is None
    assert len(index) == 1


def test_grounded_skills_may_ask_the_same_question_about_different_contexts():
    from .conftest import check, rules_of

    seeds = "".join(f"  - context: Text number {i} about topic {i}.\n    question: Summarise this text.\n"
                    f"    answer: Summary {i}.\n" for i in range(5))
    text = f"version: 3\ncreated_by: me\ntask_description: Summarise.\nseed_examples:\n{seeds}"
    assert not {"duplicate-question", "near-duplicate-question"} & rules_of(check(text))
    same_context = text.replace("Text number 4 about topic 4.", "Text number 0 about topic 0.")
    assert "duplicate-question" in rules_of(check(same_context))
