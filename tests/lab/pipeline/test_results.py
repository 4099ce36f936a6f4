"""The typed results turn back into exactly the JSON the retrain wrote before them."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from lab.pipeline.results import EvalReport, Release, RetrainResult, TrainSummary
from lab.publish.release import ReleaseResult
from tests.lab.evaluate.test_impact import _report

SUMMARY = {"base": "/m", "method": "lora", "final": "/run/final", "config": {"lr": 0.001},
           "phases": {"phase1": {"samples": 12, "steps": 3}, "phase2": {"samples": 7, "steps": 2}},
           "tokens_per_s_this_process": 10.5}


def test_train_summary_round_trips_and_counts_samples_per_phase():
    summary = TrainSummary.from_dict(json.loads(json.dumps(SUMMARY)))
    assert summary.final == Path("/run/final") and summary.data_counts() == {"phase1": 12, "phase2": 7}
    assert summary.to_dict() == SUMMARY


def test_a_summary_without_its_model_is_refused():
    with pytest.raises(KeyError):
        TrainSummary.from_dict({"phases": {}, "config": {}})


def test_result_json_keeps_its_shape_with_and_without_a_release():
    raw = _report({"a/qna.yaml": [0.9] * 5}, {"a/qna.yaml": [0.1] * 5})
    report = EvalReport.from_dict(raw)
    assert report.gate.passed and report.to_dict() == raw and report.baseline_kind == "the base model"
    blocked = RetrainResult(report, None, (5, 7), {"a/qna.yaml": 5})
    assert blocked.to_dict() == {"gate": raw["gate"], "release": None, "prs": [5, 7], "noted": [], "note": ""}
    assert blocked.title() == "gate passed, not released"
    published = ReleaseResult("v1", "https://hub.test/m/tree/v1", "c" * 40, skipped=False)
    released = RetrainResult(report, Release(published, (7, 5)), (5, 7))
    assert released.to_dict()["release"] == published.to_dict() | {"announced": [5, 7]}
    assert "announced" not in Release(published).to_dict()  # nobody to tell: the key is absent, as before
    assert released.title() == "released v1"


def test_a_regression_blocks_and_says_so():
    report = EvalReport.from_dict(_report({"a/qna.yaml": [0.1] * 5}, {"a/qna.yaml": [0.9] * 5}))
    result = RetrainResult(report, None, ())
    assert not result.passed and result.title() == "gate blocked the release"
    assert result.to_dict()["gate"]["decision"] == "block"
