"""The /preview comment: a verdict row per leaf and question set, retention, the adapter, answers kept inert and bounded."""

from __future__ import annotations

from ci.preview_report import ROWS_PER_LEAF, PreviewRun, render_preview
from lab.evaluate.general import load_general, retention
from lab.evaluate.items import EvalItem
from lab.evaluate.preview import HELDOUT, SEED, by_leaf, score_pairs

RUN = PreviewRun(model="base model smollm2-135m-instruct", adapter="/data/preview/job-9/adapter",
                 link="`/data/preview/job-9/adapter` on the worker", chat_model="smollm2-135m-instruct",
                 train_rows=12, held_rows=4, steps=8, seconds=41.0, min_effect=0.01)


def item(leaf: str, question: str, reference: str) -> EvalItem:
    return EvalItem(leaf, "", "knowledge", question, reference, ({"role": "user", "content": question},))


def report(leaf: str = "knowledge/islands/qna.yaml", seeds: int = 3, held: int = 4, run: PreviewRun = RUN,
           question: str = "Who found the island?") -> str:
    items = [item(leaf, f"{question} {i}", f"ada found it in year {i}") for i in range(seeds + held)]
    sources = [SEED] * seeds + [HELDOUT] * held
    base = ["I do not know"] * len(items)
    preview = [f"ada found it in year {i}" for i in range(len(items))]
    general = load_general(3)
    kept = retention(general, [q.keys[0] for q in general], [q.keys[0] for q in general], 0.01, 0)
    return render_preview(by_leaf(score_pairs(items, sources, base, preview), 0.01), kept, run)


def test_each_leaf_has_a_row_per_question_set_with_means_interval_and_the_gates_word():
    text = report()
    assert "A LoRA adapter trained for 8 steps (41 s) on 12 generated rows of 1 changed leaf" in text
    assert "4 more rows held out, never trained on" in text
    assert "| `knowledge/islands/qna.yaml` | seed questions | 3 | 0.00 | 1.00 | +1.00 (+1.00..+1.00) | **improved** |" \
        in text
    assert "| ″ | held-out questions | 4 | 0.00 | 1.00 | +1.00 (+1.00..+1.00) | **improved** |" in text
    assert "**General retention** (fixed general questions, never trained on): 3 of 3 general questions answered " \
           "right (base 3); it keeps 3 of the 3 the base model answers right: no change" in text
    assert "at least 0.01" in text and "fewer than 3 questions" in text
    assert "`lab chat smollm2-135m-instruct --adapter ADAPTER_FOLDER`" in text
    assert "`/data/preview/job-9/adapter` on the worker" in text


def test_a_run_the_time_limit_stopped_says_so():
    from dataclasses import replace

    assert "(stopped by `preview.max_minutes`)" in report(run=replace(RUN, timed_out=True))
    assert "stopped by" not in report()


def test_quoted_text_is_inert_and_a_hostile_leaf_path_cannot_open_html():
    hostile = "knowledge/<img src=x onerror=alert(1)>/qna.yaml"
    text = report(leaf=hostile, question="@victim | ![x](https://evil.example/x.png)")
    assert "<img" not in text.replace(f"`{hostile}`", "")  # only inside code spans
    assert "&lt;img src=x onerror=alert(1)>" in text  # the <summary> line escapes it
    assert "`@victim \\| ![x](https://evil.example/x.png) 0`" in text


def test_answers_are_bounded_per_leaf_and_set_and_say_how_many_more_there_are():
    text = report(seeds=ROWS_PER_LEAF + 3, held=1)
    assert text.count("| seed | ") == ROWS_PER_LEAF + 1 and "| seed | 3 more in the job's report |" in text


def test_many_leaves_keep_every_verdict_row_but_only_the_first_leaves_answers():
    from ci.preview_report import LEAVES_WITH_ANSWERS

    items = [item(f"knowledge/leaf{n}/qna.yaml", "q", "an answer") for n in range(LEAVES_WITH_ANSWERS + 2)]
    leaves = by_leaf(score_pairs(items, [SEED] * len(items), ["x"] * len(items), ["an answer"] * len(items)), 0.01)
    general = load_general(1)
    text = render_preview(leaves, retention(general, ["?"], ["?"], 0.01, 0), RUN)
    assert all(f"| `knowledge/leaf{n}/qna.yaml` | seed questions | 1 |" in text for n in range(len(items)))
    assert text.count("<details>") == LEAVES_WITH_ANSWERS and "The answers of 2 more leaves are in" in text
