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


class Timeline:
    """Prints steps as they run; keeps a record for the artefacts folder."""

    def __init__(self, stream: TextIO | None = None, clock: Callable[[], float] = time.monotonic):
        self.stream = stream or sys.stdout
        self.clock = clock
        self.t0 = clock()
        self.steps: list[StepRecord] = []

    def _now(self) -> float:
        return self.clock() - self.t0

    def _print(self, line: str) -> None:
        print(f"[{self._now():6.1f}s] {line}", file=self.stream, flush=True)

    @contextmanager
    def step(self, title: str) -> Iterator[StepRecord]:
        """Run one step; any exception in it becomes StepFailed(title, ...)."""
        record = StepRecord(title, self._now())
        self.steps.append(record)
        self._print(f"{RUN} {title}")
        start = self.clock()
        try:
            yield record
        except StepFailed as exc:
            exc.step = exc.step or title  # raised deep inside a step without knowing its title
            record.ok, record.elapsed_s = False, self.clock() - start
            self._print(f"{FAIL} {title}: {exc.reason}")
            raise
        except KeyboardInterrupt:
            record.ok, record.elapsed_s = False, self.clock() - start
            self._print(f"{FAIL} {title}: interrupted")
            raise
        except Exception as exc:  # any failure inside a step is reported as that step's failure
            record.ok, record.elapsed_s = False, self.clock() - start
            reason = f"{type(exc).__name__}: {exc}"
            self._print(f"{FAIL} {title}: {reason}")
            raise StepFailed(title, reason) from exc
        record.ok, record.elapsed_s = True, self.clock() - start
        self._print(f"{OK} {title} ({record.elapsed_s:.1f}s)")

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
             "ok": s.ok, "notes": s.notes}
            for s in self.steps
        ]
