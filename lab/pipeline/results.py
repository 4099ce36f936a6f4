"""What each step of the retrain hands the next, typed: a training summary, an evaluation report (with
each leaf's measured impact, lab.evaluate.impact), the gate's decision, a release, the whole run's outcome.

Each wraps the JSON the step writes today (train_summary.json, report.json, result.json) and turns
back into exactly that JSON with `to_dict()`, so files, the model card and their readers keep their shape.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from lab.evaluate.compare import GateDecision
from lab.evaluate.impact import LeafImpact, leaf_impacts
from lab.publish.release import ReleaseResult

__all__ = ["EvalReport", "GateDecision", "LeafImpact", "Release", "RetrainFailed", "RetrainResult", "TrainSummary"]


class RetrainFailed(Exception):
    """A step could not go on: `title` is the one-line reason, `detail` what to do about it."""

    def __init__(self, title: str, detail: str = "") -> None:
        super().__init__(title)
        self.title = title
        self.detail = detail


@dataclass(frozen=True)
class TrainSummary:
    """`lab.train.trainer.train`'s summary (train_summary.json): where the model is, and what went in."""

    final: Path  # the merged model folder
    phases: dict[str, dict[str, Any]]  # phase name -> its figures (samples, steps, packing, held-out loss...)
    config: dict[str, Any]  # the resolved training config
    raw: dict[str, Any] = field(repr=False)  # the whole summary, as written

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> TrainSummary:
        return cls(final=Path(data["final"]), phases=dict(data["phases"]), config=dict(data["config"]), raw=dict(data))

    def to_dict(self) -> dict[str, Any]:
        return dict(self.raw)

    def data_counts(self) -> dict[str, int]:
        """Samples trained per phase (for the release record and card)."""
        return {name: int(phase["samples"]) for name, phase in self.phases.items()}


@dataclass(frozen=True)
class EvalReport:
    """`lab.evaluate.runner.evaluate`'s report (report.json), with the parts the retrain decides on typed."""

    gate: GateDecision
    leaves: tuple[LeafImpact, ...]
    baseline_kind: str  # "the base model" or "release <tag>"
    raw: dict[str, Any] = field(repr=False)

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> EvalReport:
        gate = data["gate"]
        return cls(gate=GateDecision(bool(gate["passed"]), str(gate["reason"])),
                   leaves=tuple(leaf_impacts(data).values()),
                   baseline_kind=str(data.get("baseline_kind") or "the base model"), raw=dict(data))

    def to_dict(self) -> dict[str, Any]:
        return dict(self.raw)

    @property
    def gate_dict(self) -> dict[str, Any]:
        """The gate as report.json and result.json spell it (decision, reason, min_effect...)."""
        return dict(self.raw["gate"])

    @property
    def rouge(self) -> dict[str, Any]:
        """The overall ROUGE-L figures: value, ci, n, and with a baseline, baseline and delta."""
        return dict(self.raw["metrics"]["rouge_l"])

    def impact_of(self, leaf: str) -> LeafImpact | None:
        return next((impact for impact in self.leaves if impact.leaf == leaf), None)


@dataclass(frozen=True)
class Release:
    """A published release, and the PRs told about it (None: nobody was there to tell them)."""

    result: ReleaseResult
    announced: tuple[int, ...] | None = None

    @property
    def tag(self) -> str:
        return self.result.tag

    @property
    def url(self) -> str:
        return self.result.url

    def to_dict(self) -> dict[str, Any]:
        out = self.result.to_dict()
        if self.announced is not None:
            out["announced"] = sorted(self.announced)
        return out


@dataclass(frozen=True)
class RetrainResult:
    """The run's outcome (result.json): the gate, the release if any, the PRs in the run and the notes posted."""

    report: EvalReport
    release: Release | None
    prs: tuple[int, ...]
    pr_of_leaf: dict[str, int] = field(default_factory=dict)  # leaf -> the PR that last changed it in this run
    noted: tuple[int, ...] = ()
    note: str = ""

    @property
    def passed(self) -> bool:
        return self.report.gate.passed

    def title(self) -> str:
        if self.release:
            return f"released {self.release.tag}"
        return "gate passed, not released" if self.passed else "gate blocked the release"

    def to_dict(self) -> dict[str, Any]:
        return {"gate": self.report.gate_dict, "release": self.release.to_dict() if self.release else None,
                "prs": list(self.prs), "noted": list(self.noted), "note": self.note}
