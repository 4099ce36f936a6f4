"""Each leaf's impact in words: the measured figures when it moved, honest words when it did not."""

from __future__ import annotations

from lab.evaluate.impact import impact_sentence, leaf_impact_lines
from lab.evaluate.items import EvalItem
from lab.evaluate.report import build_report
from lab.pipeline.impact import impact_section
from lab.pipeline.results import EvalReport

N = 5  # questions per leaf


def _report(model: dict[str, list[float]], baseline: dict[str, list[float]] | None) -> dict:
    """A real build_report over leaves with N questions each, per-question ROUGE-L as given."""
    items = [EvalItem(leaf, "d", "skill", f"q{i}?", "ref", ()) for leaf in model for i in range(N)]

    def scores(by_leaf: dict[str, list[float]]) -> dict:
        values = [v for leaf in model for v in by_leaf[leaf]]
        return {"answers": ["a"] * len(values), "rouge_l": values, "exact_match": [0.0] * len(values), "perplexity": {}}

    report = build_report(items, scores(model), scores(baseline) if baseline else None, min_effect=0.01,
                          allow_regression=False, seed=0)
    report["baseline_kind"] = "the base model"
    return report


def test_a_leaf_that_learned_shows_before_after_and_its_interval():
    report = EvalReport.from_dict(_report({"a/qna.yaml": [0.8, 0.9, 0.7, 0.8, 0.85]},
                                          {"a/qna.yaml": [0.2, 0.25, 0.1, 0.3, 0.2]}))
    impact = report.impact_of("a/qna.yaml")
    assert impact is not None and impact.verdict == "improved" and impact.ci is not None
    low, high = impact.ci
    assert 0 < low <= impact.change <= high  # the paired interval around a real gain
    assert impact_sentence(impact) == f"0.21 → 0.81 on its 5 questions, 95% CI {low:+.2f}..{high:+.2f}: improved"


def test_a_leaf_that_did_nothing_says_so_and_a_regression_is_called_one():
    same = [0.4, 0.5, 0.3, 0.6, 0.4]
    report = _report({"same/qna.yaml": same, "worse/qna.yaml": [0.1, 0.0, 0.2, 0.1, 0.1]},
                     {"same/qna.yaml": same, "worse/qna.yaml": [0.7, 0.8, 0.6, 0.9, 0.7]})
    same_line, worse_line = leaf_impact_lines(report, ["same/qna.yaml", "worse/qna.yaml"])
    assert same_line == "- `same/qna.yaml`: 0.44 → 0.44 on its 5 questions, 95% CI +0.00..+0.00: no measurable change"
    assert worse_line.endswith(": regressed") and "0.74 → 0.10" in worse_line
    assert "improved" not in same_line + worse_line


def test_a_small_noisy_change_is_no_measurable_change_not_an_improvement():
    report = EvalReport.from_dict(_report({"a/qna.yaml": [0.5, 0.2, 0.6, 0.1, 0.5]},
                                          {"a/qna.yaml": [0.3, 0.4, 0.4, 0.3, 0.4]}))
    impact = report.impact_of("a/qna.yaml")
    assert impact is not None and impact.ci is not None and impact.ci[0] < 0 < impact.ci[1]
    assert impact_sentence(impact).endswith("no measurable change")


def test_without_a_baseline_or_for_a_removed_leaf_no_change_is_claimed():
    report = _report({"a/qna.yaml": [0.5] * N}, None)
    lines = leaf_impact_lines(report, ["a/qna.yaml", "gone/qna.yaml"])
    assert lines == ["- `a/qna.yaml`: 0.50 on its 5 questions; not compared (no earlier model was evaluated)",
                     "- `gone/qna.yaml`: not evaluated (removed, or no seed question to ask)"]
    assert leaf_impact_lines({}, ["a/qna.yaml"]) == ["- `a/qna.yaml`: not evaluated (removed, or no seed question to ask)"]


def test_a_hostile_leaf_path_cannot_break_out_of_its_code_span():
    report = _report({"a/qna.yaml": [0.5] * N}, None)
    [line] = leaf_impact_lines(report, ["x`<script>`" + "y" * 500])
    assert line.count("`") == 2 and len(line) < 320


def test_the_section_names_the_score_and_what_before_means():
    report = _report({"a/qna.yaml": [0.9] * N}, {"a/qna.yaml": [0.1] * N})
    section = impact_section(report, ["a/qna.yaml"])
    assert section.startswith("**What your leaf did**") and "before = the base model" in section
    assert "0.10 → 0.90" in section and impact_section(report, []) == ""


def test_a_report_row_without_its_figures_gives_no_figure():
    report = {"gate": {"passed": True, "reason": "x"}, "leaves": [{"leaf": "a/qna.yaml", "verdict": "regressed"},
                                                                 {"leaf": "b/qna.yaml", "n": "many", "rouge_l": 0.5}]}
    assert leaf_impact_lines(report, ["a/qna.yaml", "b/qna.yaml"]) == [
        "- `a/qna.yaml`: not evaluated (removed, or no seed question to ask)",
        "- `b/qna.yaml`: not evaluated (removed, or no seed question to ask)"]
