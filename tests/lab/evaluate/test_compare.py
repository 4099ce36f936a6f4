"""Paired comparison and the gate: noise is no change; real effects pass or block."""

from __future__ import annotations

import random

from lab.evaluate.compare import (
    IMPROVED,
    NO_CHANGE,
    REGRESSED,
    Delta,
    bootstrap_ci,
    decide_gate,
    paired_delta,
)


def test_identical_scores_are_no_change():
    rng = random.Random(0)
    scores = [rng.random() for _ in range(30)]
    delta = paired_delta(scores, scores, min_effect=0.01, seed=0)
    assert delta.verdict == NO_CHANGE and delta.mean == 0 and delta.ci == (0.0, 0.0)


def test_noise_inside_the_interval_is_no_change_not_improvement():
    rng = random.Random(1)
    base = [rng.random() for _ in range(40)]
    noisy = [b + rng.uniform(-0.2, 0.21) for b in base]
    delta = paired_delta(noisy, base, min_effect=0.01, seed=0)
    assert delta.ci[0] < 0 < delta.ci[1]
    assert delta.verdict == NO_CHANGE


def test_a_consistent_gain_is_improvement_and_a_consistent_loss_is_regression():
    rng = random.Random(2)
    base = [rng.uniform(0.2, 0.6) for _ in range(30)]
    better = [b + 0.2 + rng.uniform(-0.05, 0.05) for b in base]
    assert paired_delta(better, base, 0.01, seed=0).verdict == IMPROVED
    assert paired_delta(base, better, 0.01, seed=0).verdict == REGRESSED


def test_a_significant_but_tiny_change_stays_below_the_minimum_effect():
    base = [0.5] * 30
    nudged = [0.505] * 30
    delta = paired_delta(nudged, base, min_effect=0.01, seed=0)
    assert delta.ci[0] > 0 and delta.verdict == NO_CHANGE
    assert paired_delta(nudged, base, min_effect=0.001, seed=0).verdict == IMPROVED


def test_too_few_items_never_give_a_verdict():
    assert paired_delta([1.0, 1.0], [0.0, 0.0], 0.01, seed=0).verdict == NO_CHANGE


def test_bootstrap_is_seeded():
    rng = random.Random(3)
    values = [rng.random() for _ in range(25)]
    assert bootstrap_ci(values, seed=4) == bootstrap_ci(values, seed=4)
    low, high = bootstrap_ci(values, seed=4)
    assert low < sum(values) / len(values) < high


def test_gate_blocks_a_regression_passes_an_improvement_and_honours_allow_regression():
    down = paired_delta([0.1] * 10, [0.6] * 10, 0.01, seed=0)
    up = paired_delta([0.6] * 10, [0.1] * 10, 0.01, seed=0)
    flat = paired_delta([0.5] * 10, [0.5] * 10, 0.01, seed=0)
    assert not decide_gate(down, {"a": down}, allow_regression=False).passed
    assert decide_gate(down, {"a": down}, allow_regression=True).passed
    assert decide_gate(up, {"a": up}, allow_regression=False).passed
    leaf_blocked = decide_gate(flat, {"good": up, "bad": down}, allow_regression=False)
    assert not leaf_blocked.passed and "bad" in leaf_blocked.reason
    assert decide_gate(None, {}, allow_regression=False).passed


def test_a_leaf_regression_gate_line_leads_with_the_regressed_leaves_not_the_overall_figure():
    flat = Delta(0.01, (-0.02, 0.04), 20, NO_CHANGE)
    down = Delta(-0.3, (-0.4, -0.2), 5, REGRESSED)
    gate = decide_gate(flat, {"knowledge/a/qna.yaml": down, "skills/b/qna.yaml": flat}, allow_regression=False)
    assert not gate.passed
    assert gate.reason.startswith("1 leaf regressed: knowledge/a/qna.yaml")
    assert "no overall regression" not in gate.reason
    both = decide_gate(down, {"x": down, "y": down}, allow_regression=False)
    assert both.reason.startswith("overall score regressed (mean -0.300") and both.reason.endswith("2 leaves regressed: x, y")
