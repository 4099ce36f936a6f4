"""/preview's comparison: held-out rows split off before training, asked closed-book, compared with the gate's words."""

from __future__ import annotations

import pytest

from lab.evaluate.compare import IMPROVED, NO_CHANGE, REGRESSED
from lab.evaluate.general import has_key, load_general, retention
from lab.evaluate.items import EvalItem
from lab.evaluate.preview import HELDOUT, SEED, by_leaf, heldout_items, score_pairs, split_rows, summary_line

SYSTEM = {"role": "system", "content": "You are a helpful assistant."}


def row(leaf: str, question: str, answer: str, kind: str = "knowledge", document: str | None = None) -> dict:
    user = f"{document}\n\n{question}" if document else question
    meta = {"leaf": leaf, "kind": kind} | ({"question": question, "document_in_prompt": True} if document else {})
    return {"messages": [SYSTEM, {"role": "user", "content": user}, {"role": "assistant", "content": answer}],
            "metadata": meta}


def item(leaf: str, question: str, reference: str) -> EvalItem:
    return EvalItem(leaf, "", "knowledge", question, reference, (SYSTEM, {"role": "user", "content": question}))


def test_each_leaf_keeps_its_share_out_of_training_and_no_row_is_in_both():
    rows = [row("k/a/qna.yaml", f"a{i}?", f"A{i}.") for i in range(8)] + [row("k/b/qna.yaml", f"b{i}?", "B.")
                                                                          for i in range(4)]
    train, held = split_rows(rows, 0.25)
    assert len(train) + len(held) == len(rows)
    assert not {id(r) for r in train} & {id(r) for r in held}
    held_by_leaf = [r["metadata"]["leaf"] for r in held]
    assert held_by_leaf.count("k/a/qna.yaml") == 2 and held_by_leaf.count("k/b/qna.yaml") == 1
    assert split_rows(rows, 0.25) == (train, held)  # seeded: the same rows split the same way


def test_a_leaf_with_one_row_trains_on_it_and_holds_nothing_out():
    train, held = split_rows([row("k/a/qna.yaml", "only?", "Only.")], 0.5)
    assert len(train) == 1 and held == []


def test_a_held_out_knowledge_question_is_asked_without_the_document_it_was_generated_from():
    rows = [row("k/a/qna.yaml", "Who found the island?", "Ada found it.", document="Long chunk about the island."),
            row("s/b/qna.yaml", "Rewrite: hi", "Hello.", kind="freeform_skill")]
    knowledge, skill = heldout_items(rows)
    assert knowledge.question == "Who found the island?" and knowledge.reference == "Ada found it."
    assert knowledge.messages == (SYSTEM, {"role": "user", "content": "Who found the island?"})
    assert "Long chunk" not in str(knowledge.messages)
    assert (skill.leaf, skill.kind, skill.question) == ("s/b/qna.yaml", "freeform_skill", "Rewrite: hi")


def test_a_row_without_an_assistant_answer_is_not_a_question():
    broken = {"messages": [SYSTEM, {"role": "user", "content": "q"}], "metadata": {"leaf": "k/a/qna.yaml"}}
    assert heldout_items([broken]) == []


def test_a_leaf_the_preview_learned_is_improved_on_held_out_questions_with_an_interval_above_zero():
    items = [item("k/a/qna.yaml", f"q{i}", f"the island was found by ada in year {i}") for i in range(6)]
    sources = [SEED, SEED, HELDOUT, HELDOUT, HELDOUT, HELDOUT]
    base = ["no idea"] * 6
    preview = [f"the island was found by ada in year {i}" for i in range(6)]
    (leaf,) = by_leaf(score_pairs(items, sources, base, preview), min_effect=0.01)
    seed, held = leaf.sets
    assert (seed.source, seed.n, held.source, held.n) == (SEED, 2, HELDOUT, 4)
    assert held.base == 0.0 and held.preview == 1.0 and held.delta.ci[0] > 0
    assert held.delta.verdict == IMPROVED and leaf.verdict() == IMPROVED
    assert seed.delta.verdict == NO_CHANGE  # two questions are too few for any verdict


def test_a_preview_that_forgets_is_regressed_and_equal_answers_are_no_change():
    items = [item("k/a/qna.yaml", f"q{i}", "paris is the capital of france") for i in range(4)] + \
            [item("k/b/qna.yaml", f"r{i}", "grass is green") for i in range(4)]
    base = ["paris is the capital of france"] * 4 + ["grass is green"] * 4
    preview = ["bananas"] * 4 + ["grass is green"] * 4
    worse, same = by_leaf(score_pairs(items, [SEED] * 8, base, preview), min_effect=0.01)
    assert worse.verdict() == REGRESSED and same.verdict() == NO_CHANGE
    assert summary_line([worse, same]) == "preview of 2 leaves: 0 improved, 1 no change, 1 regressed"


def test_answers_must_pair_with_questions():
    with pytest.raises(ValueError, match="one answer from each model"):
        score_pairs([item("k/a", "q", "a")], [SEED], ["x"], [])


def test_the_fixed_general_set_has_key_answers_and_none_is_a_replay_prompt():
    from lab.train.replay import load_prompts

    general = load_general()
    assert len(general) >= 20 and all(q.keys for q in general)
    assert not {q.question for q in general} & set(load_prompts())
    assert len(load_general(5)) == 5


def test_a_key_counts_only_as_whole_words():
    assert has_key("It is Paris, of course.", ("Paris",)) and has_key("seven days", ("7", "seven"))
    assert not has_key("Parisian cafes", ("Paris",)) and not has_key("", ("Earth",))


def test_retention_counts_what_the_preview_kept_and_calls_a_loss_a_regression():
    general = load_general(6)
    right = [q.keys[0] for q in general]
    kept = retention(general, right, right, min_effect=0.01, seed=0)
    assert (kept.base_right, kept.preview_right, kept.kept, kept.delta.verdict) == (6, 6, 6, NO_CHANGE)
    assert "keeps 6 of the 6" in kept.line()
    lost = retention(general, right, ["I do not know"] * 6, min_effect=0.01, seed=0)
    assert (lost.preview_right, lost.kept, lost.delta.verdict) == (0, 0, REGRESSED)
    assert "loses 6" in lost.line() and lost.line().endswith(REGRESSED)
