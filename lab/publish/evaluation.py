"""Read metrics out of an evaluation report whose exact shape we do not control.

`lab evaluate` writes report.json; its layout may grow. Rather than bind to one schema, this
module walks the report for things that look like metrics: a number, or a dict with a value
(`value`/`score`/`mean`/`accuracy`) and optionally a confidence interval (`ci: [lo, hi]`,
`ci_low`/`ci_high`, `lower`/`upper`) and a baseline. What it cannot read it skips.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

VALUE_KEYS = ("value", "score", "mean", "accuracy", "win_rate", "rate")
CI_PAIRS = (("ci_low", "ci_high"), ("lower", "upper"), ("low", "high"), ("ci_lower", "ci_upper"))
BASELINE_KEYS = ("baseline", "previous", "reference")
CONTAINER_KEYS = ("metrics", "scores", "results", "candidate", "model")
SKIP_KEYS = {"n", "count", "samples", "seed", "version", "elapsed_s", "duration_s", "num_samples"}
MAX_METRICS = 50


@dataclass(frozen=True)
class Metric:
    name: str
    value: float
    ci: tuple[float, float] | None = None
    baseline: float | None = None
    n: int | None = None


def _number(value: Any) -> float | None:
    if isinstance(value, bool) or not isinstance(value, int | float):
        return None
    return float(value)


def _ci(entry: dict[str, Any]) -> tuple[float, float] | None:
    for key in ("ci", "ci95", "confidence_interval", "interval"):
        pair = entry.get(key)
        if isinstance(pair, list | tuple) and len(pair) == 2 and all(_number(x) is not None for x in pair):
            return float(pair[0]), float(pair[1])
        if isinstance(pair, dict):
            inner = _ci_from_pairs(pair)
            if inner:
                return inner
    return _ci_from_pairs(entry)


def _ci_from_pairs(entry: dict[str, Any]) -> tuple[float, float] | None:
    for low, high in CI_PAIRS:
        lo, hi = _number(entry.get(low)), _number(entry.get(high))
        if lo is not None and hi is not None:
            return lo, hi
    return None


def _metric(name: str, entry: Any) -> Metric | None:
    number = _number(entry)
    if number is not None:
        return Metric(name, number)
    if not isinstance(entry, dict):
        return None
    value = next((v for k in VALUE_KEYS if (v := _number(entry.get(k))) is not None), None)
    if value is None:
        return None
    baseline = None
    for key in BASELINE_KEYS:
        raw = entry.get(key)
        baseline = _number(raw) if not isinstance(raw, dict) else next(
            (v for k in VALUE_KEYS if (v := _number(raw.get(k))) is not None), None)
        if baseline is not None:
            break
    n = entry.get("n") if isinstance(entry.get("n"), int) else None
    return Metric(name, value, _ci(entry), baseline, n)


def extract_metrics(report: dict[str, Any] | None) -> list[Metric]:
    """Metrics found in `report`, in the report's order; baselines filled from a top-level baseline block."""
    if not isinstance(report, dict):
        return []
    container: dict[str, Any] = report
    for key in CONTAINER_KEYS:
        if isinstance(report.get(key), dict):
            container = report[key]
            break
    out: list[Metric] = []
    for name, entry in container.items():
        if name in SKIP_KEYS or name in BASELINE_KEYS:
            continue
        metric = _metric(str(name), entry)
        if metric is not None:
            out.append(metric)
        if len(out) >= MAX_METRICS:
            break
    top_baseline = next((report[k] for k in BASELINE_KEYS if isinstance(report.get(k), dict)), None)
    if top_baseline:
        base = {m.name: m for m in extract_metrics(top_baseline)}
        out = [m if m.baseline is not None or m.name not in base else
               Metric(m.name, m.value, m.ci, base[m.name].value, m.n) for m in out]
    return out


def format_value(value: float | None) -> str:
    if value is None:
        return "–"
    return f"{value:.3f}" if abs(value) < 1000 else f"{value:,.0f}"
