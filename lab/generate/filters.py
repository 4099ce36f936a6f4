"""Quality filters and their bookkeeping: every filter reports how many rows it saw and kept.

The pipeline calls these on plain strings; `FilterCounts` turns the numbers into the keep-rate
table and names the filter responsible when a leaf's keep rate collapses.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field


@dataclass
class FilterCounts:
    """Ordered `name -> [seen, kept]`, plus why parsing failed (reason -> count)."""

    counts: dict[str, list[int]] = field(default_factory=dict)
    parse_failures: Counter = field(default_factory=Counter)

    def record(self, name: str, kept: bool) -> bool:
        seen_kept = self.counts.setdefault(name, [0, 0])
        seen_kept[0] += 1
        seen_kept[1] += int(kept)
        return kept

    def removed(self, name: str) -> int:
        seen, kept = self.counts.get(name, (0, 0))
        return seen - kept

    def worst(self) -> str | None:
        """The filter that removed the most rows (None when nothing was removed)."""
        best = max(self.counts, key=self.removed, default=None)
        return best if best is not None and self.removed(best) > 0 else None

    def as_dict(self) -> dict[str, dict[str, int]]:
        return {name: {"seen": s, "kept": k} for name, (s, k) in self.counts.items()}

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
