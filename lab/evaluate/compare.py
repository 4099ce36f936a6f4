"""Paired comparison with a previous model, and the release gate.

Both models answer the same items, so the comparison works on per-item differences: a seeded
bootstrap over items gives a 95% interval of the mean difference. A change counts only when the
interval excludes zero *and* the mean moves by at least `min_effect`; anything else is "no change",
never reported as an improvement or a regression.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import asdict, dataclass

IMPROVED, REGRESSED, NO_CHANGE = "improved", "regressed", "no change"
DEFAULT_RESAMPLES = 2000
CONFIDENCE = 0.95
MIN_ITEMS_FOR_VERDICT = 3  # fewer paired items than this is always "no change": too little evidence


@dataclass(frozen=True)
class Delta:
    mean: float  # mean of (model - baseline) over items
    ci: tuple[float, float]  # bootstrap interval of that mean
    n: int
    verdict: str

    def to_dict(self) -> dict:
        return asdict(self) | {"ci": list(self.ci)}


def bootstrap_ci(values: Sequence[float], seed: int, resamples: int = DEFAULT_RESAMPLES) -> tuple[float, float]:
    """Percentile interval of the mean of `values` (seeded; a single value gives a zero-width interval)."""
    import numpy as np

    data = np.asarray(values, dtype=float)
    if data.size == 0:
        return (0.0, 0.0)
    rng = np.random.default_rng(seed)
    means = data[rng.integers(0, data.size, size=(resamples, data.size))].mean(axis=1)
    tail = (1 - CONFIDENCE) / 2
    return float(np.quantile(means, tail)), float(np.quantile(means, 1 - tail))


def verdict(mean: float, ci: tuple[float, float], min_effect: float) -> str:
    if ci[0] > 0 and mean >= min_effect:
        return IMPROVED
    if ci[1] < 0 and mean <= -min_effect:
        return REGRESSED
    return NO_CHANGE


def paired_delta(model: Sequence[float], baseline: Sequence[float], min_effect: float, seed: int) -> Delta:
    """Compare per-item scores of two models on the same items."""
    if len(model) != len(baseline):
        raise ValueError("paired comparison needs the same items for both models")
    diffs = [a - b for a, b in zip(model, baseline, strict=True)]
    mean = sum(diffs) / len(diffs) if diffs else 0.0
    ci = bootstrap_ci(diffs, seed)
    call = verdict(mean, ci, min_effect) if len(diffs) >= MIN_ITEMS_FOR_VERDICT else NO_CHANGE
    return Delta(round(mean, 6), (round(ci[0], 6), round(ci[1], 6)), len(diffs), call)


@dataclass(frozen=True)
class GateDecision:
    passed: bool
    reason: str

    def to_dict(self) -> dict:
        return asdict(self) | {"decision": "pass" if self.passed else "block"}


def _regression_reason(overall: Delta, regressed: list[str]) -> str:
    """Why a regression blocks, reason first: what regressed, then the overall figure as context."""
    figure = f"mean {overall.mean:+.3f}, 95% CI {overall.ci[0]:+.3f}..{overall.ci[1]:+.3f}"
    leaves = f"{len(regressed)} {'leaf' if len(regressed) == 1 else 'leaves'} regressed: {', '.join(regressed)}"
    if overall.verdict == REGRESSED:
        return f"overall score regressed ({figure})" + (f"; {leaves}" if regressed else "")
    return f"{leaves} (overall {figure}, not itself a regression)"


def decide_gate(overall: Delta | None, leaves: dict[str, Delta], allow_regression: bool) -> GateDecision:
    """Block a release that regresses overall or on any leaf, unless regressions are allowed."""
    if overall is None:
        return GateDecision(True, "no previous release to compare with: the first release passes")
    regressed = sorted(leaf for leaf, delta in leaves.items() if delta.verdict == REGRESSED)
    if overall.verdict == REGRESSED or regressed:
        detail = _regression_reason(overall, regressed)
        if allow_regression:
            return GateDecision(True, detail + "; released anyway (allow_regression is set)")
        return GateDecision(False, detail)
    if overall.verdict == IMPROVED:
        return GateDecision(True, f"improved (mean {overall.mean:+.3f}, 95% CI {overall.ci[0]:+.3f}..{overall.ci[1]:+.3f})")
    return GateDecision(True, f"no change beyond noise (mean {overall.mean:+.3f}, 95% CI {overall.ci[0]:+.3f}..{overall.ci[1]:+.3f})")
