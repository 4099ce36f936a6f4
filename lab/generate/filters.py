"""Quality filters and their bookkeeping: every filter reports how many rows it saw and kept.

The pipeline calls these on plain strings; `FilterCounts` turns the numbers into the keep-rate
table, keeps the first few rows each filter dropped (the PR report shows them), and names the
filter responsible when a leaf's keep rate collapses.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

EXAMPLES_PER_FILTER = 2  # dropped rows kept per filter, to show what it removes
EXAMPLE_CHARS = 500  # per field of a kept example: bounds memory and the manifest


@dataclass
class FilterCounts:
    """Ordered `name -> [seen, kept]`, why parsing failed (reason -> count), and dropped examples."""

    counts: dict[str, list[int]] = field(default_factory=dict)
    parse_failures: Counter = field(default_factory=Counter)
    examples: dict[str, list[dict[str, str]]] = field(default_factory=dict)
    sink: Callable[[str, dict[str, str | None]], None] | None = None  # sees every dropped row, whole (benchmarks)

    def record(self, name: str, kept: bool, example: dict[str, str | None] | None = None) -> bool:
        """Count one row; when it is dropped, keep `example` (its texts) if the filter has few yet."""
        seen_kept = self.counts.setdefault(name, [0, 0])
        seen_kept[0] += 1
        seen_kept[1] += int(kept)
        if not kept and example is not None:
            if self.sink is not None:
                self.sink(name, example)
            shown = self.examples.setdefault(name, [])
            if len(shown) < EXAMPLES_PER_FILTER:
                shown.append({k: v[:EXAMPLE_CHARS] for k, v in example.items() if isinstance(v, str) and v})
        return kept

    def removed(self, name: str) -> int:
        seen, kept = self.counts.get(name, (0, 0))
        return seen - kept

    def worst(self) -> str | None:
        """The filter that removed the most rows (None when nothing was removed)."""
        best = max(self.counts, key=self.removed, default=None)
        return best if best is not None and self.removed(best) > 0 else None

    def as_dict(self) -> dict[str, dict[str, Any]]:
        """name -> seen, kept and (when it dropped any) the first dropped rows' texts."""
        out: dict[str, dict[str, Any]] = {}
        for name, (seen, kept) in self.counts.items():
            out[name] = {"seen": seen, "kept": kept}
            if self.examples.get(name):
                out[name]["dropped"] = self.examples[name]
        return out

    def explain(self) -> str:
        """One line per filter that removed something, worst first."""
        parts = []
        for name in sorted(self.counts, key=self.removed, reverse=True):
            seen, kept = self.counts[name]
            if seen > kept:
                parts.append(f"{name} removed {seen - kept} of {seen}")
        if self.parse_failures:
            reasons = ", ".join(f"{r}: {n}" for r, n in self.parse_failures.most_common())
            parts.append(f"unparseable replies ({reasons})")
        return "; ".join(parts) or "no filter removed anything"


def length_ok(text: str, min_words: int, max_chars: int) -> bool:
    """Too short to teach anything, or long enough to be a runaway generation."""
    return len(text.split()) >= min_words and len(text) <= max_chars


def judge_ok(verdict: dict[str, str] | None) -> bool:
    """A judge reply that is missing or unparseable counts as a rejection: unsure rows do not train."""
    return verdict is not None and verdict.get("verdict") == "yes"
