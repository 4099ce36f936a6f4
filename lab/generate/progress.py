"""Progress for generation: rich bars with an ETA on a terminal, plain lines in a log or CI; the summary table."""

from __future__ import annotations

import threading
import time
from typing import IO, Any

from lab.generate.markdown import prompt_rate
from lab.generate.runner import LeafResult, Manifest

HEARTBEAT_S = 30.0  # a plain progress line at least this often while a leaf runs, rows or not
STATUS_STYLE = {"ok": "green", "cached": "cyan", "short": "yellow", "collapsed": "red", "failed": "red"}


class PlainProgress:
    """The runner's Progress protocol as plain lines, for logs and CI where bars print nothing until the end.

    One line when a leaf starts and ends, and one every `heartbeat_s` while it runs: a weak teacher
    can take minutes per kept row, and a silent log looks like a hung job."""

    def __init__(self, stream: IO[str], heartbeat_s: float = HEARTBEAT_S) -> None:
        self.stream, self.heartbeat_s = stream, heartbeat_s
        self.leaf, self.total, self.done, self.started = "", 0, 0, 0.0
        self._lock = threading.Lock()
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    def __enter__(self) -> PlainProgress:
        self._thread = threading.Thread(target=self._beat, name="progress", daemon=True)
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join()

    def _line(self, text: str) -> None:
        self.stream.write(text + "\n")
        self.stream.flush()

    def _beat(self) -> None:
        while not self._stop.wait(self.heartbeat_s):
            with self._lock:
                if self.leaf:
                    self._line(self._status())

    def _status(self) -> str:
        elapsed = time.monotonic() - self.started
        eta = f", eta {elapsed / self.done * (self.total - self.done):.0f} s" if 0 < self.done < self.total else ""
        return f"{self.leaf}: {self.done}/{self.total} rows, {elapsed:.0f} s{eta}"

    def leaf_started(self, leaf_id: str, total: int) -> None:
        with self._lock:
            self.leaf, self.total, self.done, self.started = leaf_id, total, 0, time.monotonic()
            self._line(f"{leaf_id}: started, {total} rows wanted")

    def advance(self, n: int = 1) -> None:
        with self._lock:
            self.done += n

    def leaf_finished(self, result: LeafResult) -> None:
        with self._lock:
            self.leaf = ""
            message = f"; {result.message}" if result.message else ""
            self._line(f"{result.leaf_id}: {result.status}, {result.rows} rows, keep rate {result.keep_rate:.0%}, "
                       f"{result.seconds:.1f} s{message}")


class RichProgress:
    """The runner's Progress protocol on a rich console (stderr, so stdout stays data): bars on a
    terminal, `PlainProgress` lines anywhere else."""

    def __init__(self, console: Any = None) -> None:
        from rich.console import Console
        from rich.progress import (
            BarColumn,
            MofNCompleteColumn,
            Progress,
            TextColumn,
            TimeElapsedColumn,
            TimeRemainingColumn,
        )

        self.console = console or Console(stderr=True)
        self.bars = Progress(TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(),
                             TimeElapsedColumn(), TextColumn("eta"), TimeRemainingColumn(), console=self.console)
        self.task: Any = None
        self.plain = None if self.console.is_terminal else PlainProgress(self.console.file)

    def __enter__(self) -> RichProgress:
        if self.plain is not None:
            self.plain.__enter__()
        else:
            self.bars.start()
        return self

    def __exit__(self, *exc: object) -> None:
        if self.plain is not None:
            self.plain.__exit__(*exc)
        else:
            self.bars.stop()

    def leaf_started(self, leaf_id: str, total: int) -> None:
        if self.plain is not None:
            return self.plain.leaf_started(leaf_id, total)
        self.task = self.bars.add_task(leaf_id, total=max(total, 1))

    def advance(self, n: int = 1) -> None:
        if self.plain is not None:
            return self.plain.advance(n)
        if self.task is not None:
            self.bars.advance(self.task, n)

    def leaf_finished(self, result: LeafResult) -> None:
        if self.plain is not None:
            return self.plain.leaf_finished(result)
        if self.task is not None:
            self.bars.update(self.task, total=max(result.rows, 1), completed=max(result.rows, 1),
                             description=f"{result.leaf_id} [{STATUS_STYLE.get(result.status, 'white')}]{result.status}[/]")
        if result.message:
            self.console.print(f"  {result.leaf_id}: {result.message}", markup=False, highlight=False)


def summary_table(manifest: Manifest):
    """A rich Table: per leaf status, rows, keep rate, the filter that removed most, completion and prompt
    tokens per second (tokens/s alone read as if prompts were free), time."""
    from rich.table import Table

    table = Table(title=f"generated {manifest.rows} rows with {manifest.teacher} in {manifest.seconds:.1f} s")
    numbers = ("rows", "keep rate", "completion tok/s", "prompt tok/s", "seconds")
    for col in ("leaf", "kind", "status", "rows", "keep rate", "most removed by", *numbers[2:]):
        table.add_column(col, justify="right" if col in numbers else "left",
                         overflow="fold" if col == "leaf" else "ellipsis")  # a long leaf id wraps, whole
    for r in manifest.leaves:
        worst = max(r.filters.items(), key=lambda kv: kv[1]["seen"] - kv[1]["kept"], default=None)
        removed = f"{worst[0]} ({worst[1]['seen'] - worst[1]['kept']})" if worst and worst[1]["seen"] > worst[1]["kept"] else "-"
        table.add_row(r.leaf_id, r.kind, f"[{STATUS_STYLE.get(r.status, 'white')}]{r.status}[/]", str(r.rows),
                      f"{r.keep_rate:.0%}", removed, f"{r.tokens_per_s:.1f}", prompt_rate(r), f"{r.seconds:.1f}")
    return table
