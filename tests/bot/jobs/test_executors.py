"""Every executor answers the same four calls: submit, status, logs, cancel."""

from __future__ import annotations

import pytest

from bot.jobs.executors import ActionsExecutor, LocalExecutor
from bot.jobs.model import CANCELLED, QUEUED, RUNNING
from tests.bot.jobs.world import HEAD, MAINTAINER, PR, REPO, make_world


@pytest.mark.parametrize("executor", ["local", "actions"])
def test_status_is_the_store_and_cancel_of_a_queued_job_ends_it(tmp_path, executor):
    world = make_world(tmp_path, executor=executor)
    job, _ = world.store.enqueue("generate", REPO, HEAD, pr=PR, requested_by=MAINTAINER)
    runner = world.service.executor
    assert isinstance(runner, LocalExecutor if executor == "local" else ActionsExecutor)
    assert runner.status(job.id).state == QUEUED
    assert runner.cancel(world.github, job, "not wanted").state == CANCELLED
    assert runner.status(job.id).state == CANCELLED and runner.status(job.id).reason == "not wanted"


def test_local_logs_are_every_attempt_of_the_job_and_actions_logs_live_on_github(tmp_path):
    world = make_world(tmp_path)
    logs = world.settings.log_dir
    logs.mkdir(parents=True)
    (logs / "job-4-attempt-1.log").write_text("worker lost\n")
    (logs / "job-4-attempt-2.log").write_text("done\n")
    (logs / "job-40-attempt-1.log").write_text("another job\n")
    text = world.service.executor.logs(4)
    assert text is not None and text.index("worker lost") < text.index("done") and "another job" not in text
    assert world.service.executor.logs(5) is None
    assert make_world(tmp_path / "gh", executor="actions").service.executor.logs(4) is None


def test_cancel_of_a_running_local_job_asks_its_worker_to_stop(tmp_path):
    world = make_world(tmp_path)
    job, _ = world.store.enqueue("generate", REPO, HEAD, pr=PR)
    claimed = world.store.claim("w1", 30)
    assert claimed is not None and claimed.state == RUNNING
    stopping = world.service.executor.cancel(world.github, claimed, "by request")
    assert stopping.state == RUNNING and stopping.cancel_requested  # the worker kills the step, then cancels
