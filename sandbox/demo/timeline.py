"""The demo's timeline: one readable line per step with elapsed seconds, and the step that failed.

A failed step raises `StepFailed` naming it, so the entry point can exit non-zero with a clear
message instead of a traceback from deep inside the story.
"""

from __future__ import annotations

import sys
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import TextIO

OK, FAIL, RUN, NOTE = "✓", "✗", "▶", "·"


class StepFailed(RuntimeError):
    """A step of the story did not do what it should; `step` names it for the user."""

    def __init__(self, step: str, reason: str):
        super().__init__(f"step '{step}' failed: {reason}")
        self.step = step
        self.reason = reason


@dataclass
class StepRecord:
    title: str
    started_s: float
    elapsed_s: float = 0.0
    ok: bool | None = None
    notes: list[str] = field(default_factory=list)
    budget_s: float | None = None  # what the step should take on 2 idle cores; over it is said, not fatal
    cpu_s: float = 0.0  # CPU seconds of the demo and its services during the step


class Timeline:
    """Prints steps as they run; keeps a record for the artefacts folder."""

    def __init__(self, stream: TextIO | None = None, clock: Callable[[], float] = time.monotonic,
                 cpu: Callable[[], float] | None = None):
        self.stream = stream or sys.stdout
        self.clock = clock
        self.cpu = cpu  # CPU seconds used so far (the demo's process tree), if known
        self.t0 = clock()
        self.steps: list[StepRecord] = []

    def _now(self) -> float:
        return self.clock() - self.t0

    def _print(self, line: str) -> None:
        print(f"[{self._now():6.1f}s] {line}", file=self.stream, flush=True)

    @contextmanager
    def step(self, title: str, budget_s: float | None = None) -> Iterator[StepRecord]:
        """Run one step; any exception in it becomes StepFailed(title, ...)."""
        record = StepRecord(title, self._now(), budget_s=budget_s)
        self.steps.append(record)
        self._print(f"{RUN} {title}" + (f" (budget {budget_s:.0f}s)" if budget_s else ""))
        start, cpu_start = self.clock(), self._cpu()

        def finish(ok: bool) -> None:
            record.ok, record.elapsed_s, record.cpu_s = ok, self.clock() - start, self._cpu() - cpu_start

        try:
            yield record
        except StepFailed as exc:
            exc.step = exc.step or title  # raised deep inside a step without knowing its title
            finish(False)
            self._print(f"{FAIL} {title}: {exc.reason}")
            raise
        except KeyboardInterrupt:
            finish(False)
            self._print(f"{FAIL} {title}: interrupted")
            raise
        except Exception as exc:  # any failure inside a step is reported as that step's failure
            finish(False)
            reason = f"{type(exc).__name__}: {exc}"
            self._print(f"{FAIL} {title}: {reason}")
            raise StepFailed(title, reason) from exc
        finish(True)
        self._print(f"{OK} {title} ({self._cost(record)})")

    def _cpu(self) -> float:
        return self.cpu() if self.cpu else 0.0

    def _cost(self, record: StepRecord) -> str:
        text = f"{record.elapsed_s:.1f}s"
        if self.cpu:
            text += f", {record.cpu_s:.0f} CPU-s"
        if record.budget_s and record.elapsed_s > record.budget_s:
            text += f"; over its {record.budget_s:.0f}s budget"
        return text

    def cpu_total(self) -> float:
        return sum(s.cpu_s for s in self.steps)

    def note(self, text: str) -> None:
        """A detail line under the current step (what the bot did, a link, a sample)."""
        if self.steps:
            self.steps[-1].notes.append(text)
        for i, line in enumerate(text.splitlines() or [""]):
            prefix = f"  {NOTE} " if i == 0 else "    "
            print(f"{'':9} {prefix}{line}", file=self.stream, flush=True)

    def total_s(self) -> float:
        return self._now()

    def as_dicts(self) -> list[dict]:
        return [
            {"title": s.title, "started_s": round(s.started_s, 2), "elapsed_s": round(s.elapsed_s, 2),
             "cpu_s": round(s.cpu_s, 1), "budget_s": s.budget_s, "ok": s.ok, "notes": s.notes}
            for s in self.steps
        ]
