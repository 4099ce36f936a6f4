"""Terminal progress for generation: one rich bar per leaf with an ETA, and the summary table."""

from __future__ import annotations

from typing import Any

from lab.generate.runner import LeafResult, Manifest

STATUS_STYLE = {"ok": "green", "cached": "cyan", "short": "yellow", "collapsed": "red", "failed": "red"}


class RichProgress:
    """Implements the runner's Progress protocol on a rich console (stderr, so stdout stays data)."""

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

    def __enter__(self) -> RichProgress:
        self.bars.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.bars.stop()

    def leaf_started(self, leaf_id: str, total: int) -> None:
        self.task = self.bars.add_task(leaf_id, total=max(total, 1))

    def advance(self, n: int = 1) -> None:
        if self.task is not None:
            self.bars.advance(self.task, n)

    def leaf_finished(self, result: LeafResult) -> None:
        if self.task is not None:
            self.bars.update(self.task, total=max(result.rows, 1), completed=max(result.rows, 1),
                             description=f"{result.leaf_id} [{STATUS_STYLE.get(result.status, 'white')}]{result.status}[/]")
        if result.message:
            self.console.print(f"  {result.leaf_id}: {result.message}", markup=False, highlight=False)


def summary_table(manifest: Manifest):
    """A rich Table: per leaf status, rows, keep rate, the filter that removed most, tokens/s, time."""
    from rich.table import Table

    table = Table(title=f"generated {manifest.rows} rows with {manifest.teacher} in {manifest.seconds:.1f} s")
    for col in ("leaf", "kind", "status", "rows", "keep rate", "most removed by", "tokens/s", "seconds"):
        table.add_column(col, justify="right" if col in ("rows", "keep rate", "tokens/s", "seconds") else "left")
    for r in manifest.leaves:
        worst = max(r.filters.items(), key=lambda kv: kv[1]["seen"] - kv[1]["kept"], default=None)
        removed = f"{worst[0]} ({worst[1]['seen'] - worst[1]['kept']})" if worst and worst[1]["seen"] > worst[1]["kept"] else "-"
        table.add_row(r.leaf_id, r.kind, f"[{STATUS_STYLE.get(r.status, 'white')}]{r.status}[/]", str(r.rows),
                      f"{r.keep_rate:.0%}", removed, f"{r.tokens_per_s:.1f}", f"{r.seconds:.1f}")
    return table
