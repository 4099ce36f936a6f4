"""Process metrics in Prometheus text format, without a client library: counters, one gauge, histograms.

Exposed at `GET /metrics`: deliveries by event and outcome, handler latency, GitHub API calls and
errors, and the rate-limit budget GitHub reported last. Thread-safe (the worker thread and the
request handlers both write).
"""

from __future__ import annotations

import threading
from collections import defaultdict

LATENCY_BUCKETS = (0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0)  # seconds

_HELP = {
    "arborist_deliveries_total": ("counter", "Webhook deliveries by event and outcome."),
    "arborist_handler_seconds": ("histogram", "Time spent in each handler, in seconds."),
    "arborist_handler_runs_total": ("counter", "Handler runs by handler and result."),
    "arborist_github_api_calls_total": ("counter", "GitHub API calls by operation and HTTP status."),
    "arborist_github_api_errors_total": ("counter", "GitHub API calls that failed after retries, by operation."),
    "arborist_github_api_retries_total": ("counter", "GitHub API retries by reason."),
    "arborist_github_rate_limit_remaining": ("gauge", "Requests left in the current GitHub rate-limit window."),
    "arborist_queue_depth": ("gauge", "Deliveries accepted but not yet handled."),
    "arborist_installation_events_total": ("counter", "App installation events by action."),
    "arborist_jobs": ("gauge", "Jobs waiting or running, by kind and state (read from the job store at scrape)."),
    "arborist_workers": ("gauge", "Workers heard from within two minutes, by what they are doing (running, idle)."),
}


def _labels(pairs: tuple[tuple[str, str], ...]) -> str:
    if not pairs:
        return ""
    body = ",".join(f'{k}="{str(v).replace(chr(92), "/").replace(chr(34), "").replace(chr(10), " ")}"'
                    for k, v in pairs)
    return "{" + body + "}"


class Metrics:
    """A registry of the few series Arborist exports."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._counters: dict[str, dict[tuple, float]] = defaultdict(lambda: defaultdict(float))
        self._gauges: dict[str, dict[tuple, float]] = defaultdict(dict)
        self._hist: dict[str, dict[tuple, list[float]]] = defaultdict(dict)  # bucket counts + sum + count

    def inc(self, name: str, amount: float = 1.0, **labels: str) -> None:
        with self._lock:
            self._counters[name][tuple(sorted(labels.items()))] += amount

    def set(self, name: str, value: float, **labels: str) -> None:
        with self._lock:
            self._gauges[name][tuple(sorted(labels.items()))] = value

    def observe(self, name: str, seconds: float, **labels: str) -> None:
        key = tuple(sorted(labels.items()))
        with self._lock:
            series = self._hist[name].setdefault(key, [0.0] * (len(LATENCY_BUCKETS) + 2))
            for i, bound in enumerate(LATENCY_BUCKETS):
                if seconds <= bound:
                    series[i] += 1
            series[-2] += seconds
            series[-1] += 1

    # Named helpers, so call sites cannot misspell a series.
    def delivery(self, event: str, outcome: str) -> None:
        self.inc("arborist_deliveries_total", event=event, outcome=outcome)

    def observe_handler(self, handler: str, seconds: float, ok: bool) -> None:
        self.observe("arborist_handler_seconds", seconds, handler=handler)
        self.inc("arborist_handler_runs_total", handler=handler, result="ok" if ok else "error")

    def github_call(self, operation: str, status: int | str) -> None:
        self.inc("arborist_github_api_calls_total", operation=operation, status=str(status))

    def github_error(self, operation: str) -> None:
        self.inc("arborist_github_api_errors_total", operation=operation)

    def github_retry(self, reason: str) -> None:
        self.inc("arborist_github_api_retries_total", reason=reason)

    def rate_limit_remaining(self, remaining: int) -> None:
        self.set("arborist_github_rate_limit_remaining", float(remaining))

    def value(self, name: str, **labels: str) -> float:
        """A counter's or gauge's current value (0 when never written): for tests and the demo."""
        key = tuple(sorted(labels.items()))
        with self._lock:
            if name in self._gauges and key in self._gauges[name]:
                return self._gauges[name][key]
            return self._counters.get(name, {}).get(key, 0.0)

    def render(self) -> str:
        """The Prometheus text exposition format (version 0.0.4)."""
        lines: list[str] = []
        with self._lock:
            names = sorted(set(self._counters) | set(self._gauges) | set(self._hist) | set(_HELP))
            for name in names:
                kind, help_text = _HELP.get(name, ("untyped", name))
                lines += [f"# HELP {name} {help_text}", f"# TYPE {name} {kind}"]
                for key, value in sorted(self._counters.get(name, {}).items()):
                    lines.append(f"{name}{_labels(key)} {value:g}")
                for key, value in sorted(self._gauges.get(name, {}).items()):
                    lines.append(f"{name}{_labels(key)} {value:g}")
                for key, series in sorted(self._hist.get(name, {}).items()):
                    for bound, count in zip(LATENCY_BUCKETS, series, strict=False):
                        lines.append(f"{name}_bucket{_labels(key + (('le', f'{bound:g}'),))} {count:g}")
                    lines.append(f"{name}_bucket{_labels(key + (('le', '+Inf'),))} {series[-1]:g}")
                    lines.append(f"{name}_sum{_labels(key)} {series[-2]:.6f}")
                    lines.append(f"{name}_count{_labels(key)} {series[-1]:g}")
        return "\n".join(lines) + "\n"
