"""Job store throughput: one producer enqueues while 4 worker processes claim, heartbeat and complete.

Baseline: the same store on SQLite's defaults (rollback journal, synchronous=FULL). Ours: WAL with
synchronous=NORMAL, as `bot.jobs.store.JobStore` opens it. Every job goes enqueue -> claim ->
heartbeat -> progress -> finish, each a separate transaction, with the processes contending for the
one database file, as the bot and its workers do. Prints medians over repeats and the ratio.

    .venv/bin/python benchmarks/jobstore_throughput.py [--jobs 600] [--workers 4] [--repeats 3]
"""

from __future__ import annotations

import argparse
import multiprocessing
import statistics
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bot.jobs.model import SUCCEEDED  # noqa: E402
from bot.jobs.store import JobStore  # noqa: E402

SHA = "a" * 40


class DefaultJournalStore(JobStore):
    """The baseline: SQLite's out-of-the-box durability settings (rollback journal, full sync)."""

    def __init__(self, path, **kwargs):
        super().__init__(path, **kwargs)
        self._db.execute("PRAGMA journal_mode=DELETE")
        self._db.execute("PRAGMA synchronous=FULL")


STORES = {"baseline (rollback journal, sync=FULL)": DefaultJournalStore, "ours (WAL, sync=NORMAL)": JobStore}


def producer(cls, path: str, jobs: int, start) -> None:
    store = cls(path)
    start.wait()
    for i in range(jobs):
        store.enqueue("generate", "o/r", SHA, pr=i, args={"samples": 10}, dedupe_key=f"c:{i}")


def worker(cls, path: str, owner: str, total: int, start, done_counter) -> None:
    store = cls(path)
    start.wait()
    while True:
        job = store.claim(owner, 60)
        if job is None:
            with done_counter.get_lock():
                if done_counter.value >= total:
                    return
            time.sleep(0.001)
            continue
        store.heartbeat(job.id, owner, 60)
        store.set_progress(job.id, owner, "working", 0.5)
        store.finish(job.id, owner, SUCCEEDED, result_title="ok")
        with done_counter.get_lock():
            done_counter.value += 1


def one_run(cls, jobs: int, workers: int) -> float:
    """Seconds from the start signal until every job is finished."""
    ctx = multiprocessing.get_context("spawn")
    with tempfile.TemporaryDirectory() as tmp:
        path = str(Path(tmp) / "jobs.sqlite3")
        cls(path).close()
        start = ctx.Event()
        done = ctx.Value("i", 0)
        procs = [ctx.Process(target=producer, args=(cls, path, jobs, start))]
        procs += [ctx.Process(target=worker, args=(cls, path, f"w{i}", jobs, start, done)) for i in range(workers)]
        for p in procs:
            p.start()
        time.sleep(1.0)  # let every process import and open the database
        began = time.perf_counter()
        start.set()
        for p in procs:
            p.join()
        elapsed = time.perf_counter() - began
        store = cls(path)
        finished = store.jobs(state=SUCCEEDED)
        assert len(finished) == jobs and all(j.attempts == 1 for j in finished), "a job was lost or run twice"
        return elapsed


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--jobs", type=int, default=600)
    parser.add_argument("--workers", type=int, default=4)
    parser.add_argument("--repeats", type=int, default=3)
    args = parser.parse_args(argv)
    medians: dict[str, float] = {}
    for name, cls in STORES.items():
        times = []
        for r in range(args.repeats):
            times.append(one_run(cls, args.jobs, args.workers))
            print(f"  {name}: run {r + 1}: {times[-1]:.2f} s", file=sys.stderr)
        medians[name] = statistics.median(times)
    print(f"\n{args.jobs} jobs, {args.workers} worker processes + 1 producer, median of {args.repeats}; "
          "each job = 5 transactions (enqueue, claim, heartbeat, progress, finish)\n")
    print("| store | median s | jobs/s | transactions/s |\n| --- | --- | --- | --- |")
    for name, seconds in medians.items():
        print(f"| {name} | {seconds:.2f} | {args.jobs / seconds:.0f} | {5 * args.jobs / seconds:.0f} |")
    base, ours = medians.values()
    print(f"\nratio (baseline time / ours): {base / ours:.2f}x")
    return 0


if __name__ == "__main__":
    sys.exit(main())
