"""Pipeline logic per leaf kind, driven by the scripted teacher: filters, counting, collapse."""

from __future__ import annotations

import json

from lab.generate.backends import ScriptedBackend
from lab.generate.config import GenerateParams
from lab.generate.pipeline import LeafPipeline


def run(leaf, backend, **overrides):
    pipeline = LeafPipeline(leaf, backend, GenerateParams().with_overrides(overrides))
    rows = list(pipeline.run())
    return rows, pipeline.stats


def test_freeform_leaf_yields_requested_rows_as_messages(freeform_leaf):
    rows, stats = run(freeform_leaf, ScriptedBackend(), samples=7)
    assert len(rows) == 7 and stats.kept == 7
    for row in rows:
        roles = [m["role"] for m in row["messages"]]
        assert roles == ["system", "user", "assistant"]
        assert all(m["content"].strip() for m in row["messages"])
        assert row["metadata"]["leaf"] == freeform_leaf.path
        assert row["metadata"]["kind"] == "freeform_skill"
    seeds = {s.question for s in freeform_leaf.seeds}
    assert not seeds & {r["messages"][1]["content"] for r in rows}


def test_grounded_leaf_puts_generated_context_before_instruction(grounded_leaf):
    rows, stats = run(grounded_leaf, ScriptedBackend(), samples=4)
    assert len(rows) == 4
    assert "parse:context" in stats.filters.counts and "length:context" in stats.filters.counts
    for row in rows:
        user = row["messages"][1]["content"]
        context, _, instruction = user.partition("\n\n")
        assert len(context.split()) >= 8 and instruction.startswith("Explain")


def test_unparseable_and_empty_replies_are_counted_by_reason(freeform_leaf):
    good_q = json.dumps({"question": "Which word means very small in size?"})
    script = ["not json at all", "", '{"answer": "wrong field"}', good_q]

    def reply(stage, text, i):
        if stage == "answer":
            return json.dumps({"answer": "Tiny."})
        return script[i % len(script)]

    rows, stats = run(freeform_leaf, ScriptedBackend(reply), samples=4, batch_size=4, max_attempts_factor=1.0,
                      collapse_min_attempts=100)
    failures = stats.filters.parse_failures
    assert failures["question: not json"] == 1
    assert failures["question: empty"] == 1
    assert failures["question: missing 'question'"] == 1
    assert stats.filters.counts["parse:question"] == [4, 1]
    assert len(rows) == 1 and rows[0]["messages"][2]["content"] == "Tiny."


def test_copies_of_seeds_collapse_the_leaf_and_the_message_names_dedupe(freeform_leaf):
    seeds = [s.question for s in freeform_leaf.seeds]

    def parrot(stage, text, i):
        return json.dumps({"question": seeds[i % len(seeds)]} if stage == "question" else {"answer": "x y"})

    backend = ScriptedBackend(parrot)
    rows, stats = run(freeform_leaf, backend, samples=50, batch_size=8, collapse_min_attempts=16,
                      collapse_keep_rate=0.2)
    assert rows == []
    assert stats.attempted == 16 and backend.prompts_seen == 16  # stopped early, no answer stage ran
    assert stats.stopped and "dedupe removed 16 of 16" in stats.stopped


def test_near_duplicates_within_the_batch_are_dropped(freeform_leaf):
    def same(stage, text, i):
        return json.dumps({"question": "Give a synonym for the word bright please"} if stage == "question"
                          else {"answer": "Shiny."})

    rows, stats = run(freeform_leaf, ScriptedBackend(same), samples=5, batch_size=5, max_attempts_factor=1.0)
    assert len(rows) == 1
    assert stats.filters.counts["dedupe"] == [5, 1]


def test_judge_rejections_are_counted_and_remove_rows(freeform_leaf):
    base = ScriptedBackend()
    verdicts = iter(["yes", "no"] * 50)

    def judged(stage, text, i):
        if stage == "judge":
            return json.dumps({"verdict": next(verdicts), "reason": "r"})
        from lab.generate.backends.scripted import _reply

        return _reply(stage, text, i)

    rows, stats = run(freeform_leaf, ScriptedBackend(judged), samples=4, batch_size=8, judge=True)
    seen, kept = stats.filters.counts["judge"]
    assert kept == 4 and seen == 8 and len(rows) == 4
    assert base.calls == 0


def test_answers_that_break_length_bounds_are_removed(freeform_leaf):
    def long_answer(stage, text, i):
        from lab.generate.backends.scripted import _reply

        return json.dumps({"answer": "word " * 60}) if stage == "answer" else _reply(stage, text, i)

    rows, stats = run(freeform_leaf, ScriptedBackend(long_answer), samples=3, max_answer_chars=100,
                      collapse_min_attempts=8, collapse_keep_rate=0.5)
    assert rows == []
    assert stats.filters.removed("length:answer") == stats.filters.counts["length:answer"][0] > 0
    assert "length:answer" in (stats.stopped or "")


def test_same_seed_gives_same_rows_and_another_seed_differs(freeform_leaf):
    first, _ = run(freeform_leaf, ScriptedBackend(), samples=5, seed=3)
    again, _ = run(freeform_leaf, ScriptedBackend(), samples=5, seed=3)
    other, _ = run(freeform_leaf, ScriptedBackend(), samples=5, seed=4)
    assert first == again
    assert first != other
