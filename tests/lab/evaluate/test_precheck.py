"""/precheck's scoring and verdict: which seed questions the model already answers, counted honestly."""

from __future__ import annotations

import pytest

from lab.evaluate.items import EvalItem
from lab.evaluate.precheck import WELL_ANSWERED, Verdict, first_questions, score_answers, verdict
from lab.evaluate.scoring import rouge_l


def item(leaf: str, question: str, reference: str) -> EvalItem:
    return EvalItem(leaf, "science", "knowledge", question, reference, ({"role": "user", "content": question},))


def test_each_answer_is_scored_with_the_projects_rouge_l_against_its_seed_answer():
    items = [item("k/a", "Where is Paris?", "Paris is in France."), item("k/a", "Sky?", "The sky is blue.")]
    answers = ["Paris is in France, in Europe.", "Green cheese."]
    scored = score_answers(items, answers)
    assert [s.score for s in scored] == [round(rouge_l(a, i.reference), 4) for a, i in zip(answers, items, strict=True)]
    assert scored[0].known() and not scored[1].known()
    assert (scored[1].question, scored[1].reference, scored[1].answer) == ("Sky?", "The sky is blue.", "Green cheese.")


def test_a_score_at_the_threshold_counts_as_known_and_just_below_does_not():
    items = [item("k/a", "q1", "one two three four"), item("k/a", "q2", "one two three four")]
    scored = score_answers(items, ["one two", "one"])  # ROUGE-L 2/3 and 0.4
    assert scored[0].known() and not scored[1].known()
    assert scored[1].known(threshold=0.4) and WELL_ANSWERED == 0.5


def test_answers_and_questions_must_pair_up():
    with pytest.raises(ValueError, match="1 answers for 2 questions"):
        score_answers([item("k/a", "q", "a"), item("k/a", "q2", "b")], ["x"])


@pytest.mark.parametrize(("known", "total", "line"), [
    (4, 15, "the model already answers 4 of 15 well; the other 11 are new to it"),
    (2, 3, "the model already answers 2 of 3 well; the other one is new to it"),
    (0, 5, "the model answers none of the 5 questions well; all 5 are new to it"),
    (0, 1, "the model answers none of the one question well; it is new to it"),
    (5, 5, "the model already answers all 5 well; none is new to it"),
    (1, 1, "the model already answers the one question well; none is new to it"),
    (0, 0, "there were no seed questions to ask"),
])
def test_the_verdict_line_counts_known_and_new_questions(known, total, line):
    assert Verdict(known, total).line() == line


def test_the_verdict_counts_the_scored_answers():
    items = [item("k/a", f"q{i}", "alpha beta gamma") for i in range(4)]
    result = verdict(score_answers(items, ["alpha beta gamma", "alpha beta", "zzz", "yyy"]))
    assert (result.known, result.total, result.new) == (2, 4, 2)


def test_a_question_limit_asks_every_leaf_before_a_second_question_of_any():
    items = [item("k/a", f"a{i}", "x") for i in range(5)] + [item("k/b", "b0", "x"), item("k/c", "c0", "x")]
    chosen, left = first_questions(items, 4)
    assert [i.question for i in chosen] == ["a0", "a1", "b0", "c0"] and left == 3
    everything, none_left = first_questions(items, 100)
    assert everything == items and none_left == 0


def test_knowledge_is_asked_closed_book_and_a_grounded_skill_with_its_context():
    from lab.evaluate.items import items_from_leaves
    from lab.taxonomy.leaf import leaf_from_yaml
    from tests.conftest import REPO_ROOT

    paths = ["knowledge/science/astronomy/moon_phases/qna.yaml",
             "compositional_skills/grounded/extraction/meeting_actions/qna.yaml"]
    leaves = [leaf_from_yaml(p, (REPO_ROOT / "examples" / "taxonomy" / p).read_bytes()) for p in paths]
    knowledge = [i for i in items_from_leaves(leaves) if i.kind == "knowledge"]
    grounded = [i for i in items_from_leaves(leaves) if i.kind == "grounded_skill"]
    assert knowledge and grounded
    seeds = {s.question: s.context for leaf in leaves for s in leaf.seeds}
    for entry in knowledge:
        assert entry.messages[-1]["content"] == entry.question  # no document, no context: closed-book
    for entry in grounded:
        assert entry.messages[-1]["content"] == f"{seeds[entry.question]}\n\n{entry.question}"
