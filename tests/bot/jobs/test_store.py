"""The SQLite job store: states, leases, fencing, reaping, coalescing, durability across restarts."""

from __future__ import annotations

import multiprocessing
from pathlib import Path

import pytest

from bot.jobs.model import CANCELLED, FAILED, QUEUED, RUNNING, SUCCEEDED
from bot.jobs.store import JobStore

SHA = "d" * 40


class Clock:
    def __init__(self, now: float = 1000.0):
        self.now = now

    def __call__(self) -> float:
        return self.now


def store_at(tmp_path: Path, clock: Clock | None = None) -> JobStore:
    return JobStore(tmp_path / "jobs.sqlite3", clock=clock or Clock())


def test_store_uses_wal_and_survives_a_restart_with_queued_and_running_jobs(tmp_path):
    store = store_at(tmp_path)
    queued, _ = store.enqueue("generate", "o/r", SHA, pr=1, args={"samples": 3})
    running, _ = store.enqueue("generate", "o/r", SHA, pr=2)
    store.claim("w1", 60)  # takes the oldest: `queued` becomes running
    store.close()
    reopened = store_at(tmp_path)
    assert reopened._db.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
    jobs = {j.id: j for j in reopened.jobs()}
    assert jobs[queued.id].state == RUNNING and jobs[queued.id].args == {"samples": 3}
    assert jobs[running.id].state == QUEUED


def test_claim_takes_the_oldest_queued_job_and_leases_it(tmp_path):
    clock = Clock()
    store = store_at(tmp_path, clock)
    first, _ = store.enqueue("generate", "o/r", SHA, pr=1)
    second, _ = store.enqueue("retrain", "o/r", SHA)
    assert store.queue_position(second.id) == 2
    job = store.claim("w1", 30)
    assert (job.id, job.state, job.lease_owner, job.lease_expires, job.attempts) == (first.id, RUNNING, "w1", 1030, 1)
    assert store.queue_position(second.id) == 1
    assert store.claim("w2", 30, kinds=("generate",)) is None  # only a retrain is left


def test_a_dedupe_key_returns_the_existing_job(tmp_path):
    store = store_at(tmp_path)
    first, created = store.enqueue("generate", "o/r", SHA, pr=1, dedupe_key="comment:o/r:9")
    again, created_again = store.enqueue("generate", "o/r", SHA, pr=1, dedupe_key="comment:o/r:9")
    assert created and not created_again and first.id == again.id and len(store.jobs()) == 1


def test_an_expired_lease_requeues_until_the_attempt_limit_then_fails(tmp_path):
    clock = Clock()
    store = store_at(tmp_path, clock)
    job, _ = store.enqueue("generate", "o/r", SHA, pr=1, max_attempts=2)
    store.claim("w1", 10)
    clock.now += 11
    (reaped,) = store.reap_expired()
    assert reaped.state == QUEUED and "stopped answering" in reaped.reason
    store.claim("w2", 10)
    clock.now += 11
    (reaped,) = store.reap_expired()
    assert reaped.state == FAILED and reaped.attempts == 2 and reaped.finished_at == clock.now


def test_heartbeat_keeps_a_lease_alive(tmp_path):
    clock = Clock()
    store = store_at(tmp_path, clock)
    job, _ = store.enqueue("generate", "o/r", SHA, pr=1)
    store.claim("w1", 10)
    for _ in range(5):
        clock.now += 8
        assert store.heartbeat(job.id, "w1", 10) is not None
        assert store.reap_expired() == []


def test_a_worker_whose_lease_was_taken_over_cannot_finish_the_job(tmp_path):
    clock = Clock()
    store = store_at(tmp_path, clock)
    job, _ = store.enqueue("generate", "o/r", SHA, pr=1)
    store.claim("slow", 10)
    clock.now += 11
    store.reap_expired()
    store.claim("fast", 10)
    assert store.heartbeat(job.id, "slow", 10) is None
    assert store.set_progress(job.id, "slow", "late", 0.5) is None
    assert store.finish(job.id, "slow", SUCCEEDED) is None
    assert store.finish(job.id, "fast", SUCCEEDED, result_title="ok").state == SUCCEEDED
    assert store.finish(job.id, "fast", FAILED) is None  # never twice to completion


def test_cancel_queued_is_immediate_and_running_is_a_request(tmp_path):
    clock = Clock()
    store = store_at(tmp_path, clock)
    a, _ = store.enqueue("generate", "o/r", SHA, pr=1)
    b, _ = store.enqueue("generate", "o/r", SHA, pr=2)
    store.claim("w1", 10)
    assert store.cancel(b.id, "by request").state == CANCELLED
    flagged = store.cancel(a.id, "by request")
    assert flagged.state == RUNNING and flagged.cancel_requested
    clock.now += 11  # its worker died before acting on it
    (reaped,) = store.reap_expired()
    assert reaped.state == CANCELLED


def test_retry_only_from_failed_or_cancelled(tmp_path):
    store = store_at(tmp_path)
    job, _ = store.enqueue("generate", "o/r", SHA, pr=1)
    with pytest.raises(ValueError, match="only failed or cancelled"):
        store.retry(job.id)
    store.claim("w1", 10)
    store.finish(job.id, "w1", FAILED, result_title="boom", result_md="log")
    again = store.retry(job.id)
    assert (again.state, again.attempts, again.result_md, again.result_title) == (QUEUED, 0, "", "")


def test_coalescing_moves_the_queued_job_to_the_newest_sha(tmp_path):
    store = store_at(tmp_path)
    first, created = store.enqueue_coalescing("retrain", "o/r", "1" * 40, args={"merged": [3]})
    second, created_again = store.enqueue_coalescing("retrain", "o/r", "2" * 40, args={"merged": [4]})
    assert created and not created_again and first.id == second.id
    assert second.sha == "2" * 40 and second.args["merged"] == [3, 4]
    other, created_other = store.enqueue_coalescing("retrain", "o/other", "3" * 40)
    assert created_other and other.id != first.id


def test_unknown_update_fields_are_rejected(tmp_path):
    store = store_at(tmp_path)
    job, _ = store.enqueue("generate", "o/r", SHA, pr=1)
    with pytest.raises(ValueError, match="not updatable"):
        store.update(job.id, state=SUCCEEDED)


def _claim_all(path: str, owner: str, out) -> None:
    store = JobStore(path)
    got = []
    while (job := store.claim(owner, 60)) is not None:
        got.append(job.id)
        store.finish(job.id, owner, SUCCEEDED)
    out.put(got)


def test_concurrent_processes_claim_each_job_exactly_once(tmp_path):
    path = tmp_path / "jobs.sqlite3"
    store = JobStore(path)
    for i in range(120):
        store.enqueue("generate", "o/r", SHA, pr=i)
    ctx = multiprocessing.get_context("spawn")
    out = ctx.Queue()
    procs = [ctx.Process(target=_claim_all, args=(str(path), f"w{i}", out)) for i in range(4)]
    for p in procs:
        p.start()
    claimed = [job_id for _ in procs for job_id in out.get(timeout=60)]
    for p in procs:
        p.join(timeout=30)
    assert sorted(claimed) == [j.id for j in store.jobs()]
    assert all(j.state == SUCCEEDED and j.attempts == 1 for j in store.jobs())


def test_release_gives_the_attempt_back_requeue_counts_it_and_both_are_fenced_on_the_lease(tmp_path):
    store = store_at(tmp_path)
    job, _ = store.enqueue("generate", "o/r", SHA, pr=1)
    store.claim("w1", 60)
    store.set_progress(job.id, "w1", "generating", 0.5)
    assert store.release(job.id, "w2", "not mine") is None and store.requeue(job.id, "w2", "not mine") is None
    released = store.release(job.id, "w1", "worker shutting down")
    assert released is not None and (released.state, released.attempts, released.reason) == (
        QUEUED, 0, "worker shutting down")
    assert (released.lease_owner, released.progress, released.fraction) == (None, "", None)
    store.claim("w1", 60)
    requeued = store.requeue(job.id, "w1", "lost on the cluster")
    assert requeued is not None and (requeued.state, requeued.attempts, requeued.lease_owner) == (QUEUED, 1, None)
    assert store.release(job.id, "w1", "twice") is None  # queued now: no lease to give back
