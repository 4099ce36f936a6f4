"""The local worker runs a real subprocess per job: progress, result, failure, timeout, cancel, crash recovery."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import textwrap
import threading
import time
from pathlib import Path

from bot.handlers.comments import on_comment_created
from bot.jobs.model import CANCELLED, FAILED, QUEUED, RUNNING, SUCCEEDED
from bot.jobs.worker import Worker, ci_command
from tests.bot.jobs.world import HEAD, REPO, comment_event, make_world

FAST = dict(lease_s=2.0, heartbeat_s=0.2, poll_s=0.05, kill_grace_s=1.0)


def step(tmp_path: Path, body: str, name: str = "step.py") -> list[str]:
    """A tiny stand-in for a ci step: a Python script with the protocol lines available."""
    path = tmp_path / name
    path.write_text(textwrap.dedent("""\
        import json, os, sys, time
        def progress(text, fraction=None):
            print("::arborist-progress::" + json.dumps({"text": text, "fraction": fraction}), flush=True)
        def result(conclusion, title, summary="", links=None):
            print("::arborist-result::" + json.dumps({"conclusion": conclusion, "title": title,
                  "summary": summary, "links": links or {}}), flush=True)
        """) + textwrap.dedent(body))
    return [sys.executable, str(path)]


def queued_world(tmp_path, **settings):
    world = make_world(tmp_path, **{**FAST, **settings})
    on_comment_created(comment_event("/generate --samples 2"), world.ctx)
    return world


def worker_for(world, cmd, **kwargs) -> Worker:
    return Worker(world.service, client_for=lambda job: world.github, command_for=lambda job: cmd,
                  progress_publish_s=0.0, sleep=lambda s: None, **kwargs)


def test_a_successful_step_walks_the_status_comment_and_check_run_to_done(tmp_path):
    world = make_world(tmp_path, **FAST)
    edits: list[str] = []
    original = world.github.edit_comment
    world.github.edit_comment = lambda repo, cid, body: (edits.append(body), original(repo, cid, body))[1]
    on_comment_created(comment_event("/generate --samples 2"), world.ctx)
    cmd = step(tmp_path, """
        progress("reading leaves", 0.25)
        progress("generating", 0.75)
        result("success", "20 samples for 2 leaves", "| leaf | kept |\\n| --- | --- |\\n| a | 10 |",
               {"artefacts": "https://hub.test/datasets/x"})
        """)
    job = worker_for(world, cmd).run_once()
    assert job.state == SUCCEEDED and job.result_title == "20 samples for 2 leaves"
    assert job.artifacts_url == "https://hub.test/datasets/x"
    states = [b.split("**")[1] for b in edits]
    assert states[0] == "queued" and "running" in states and states[-1] == "done"
    assert any("generating" in b and "75%" in b for b in edits)
    (status,) = world.status_comments()
    assert "| a | 10 |" in status.body and "[artefacts](https://hub.test/datasets/x)" in status.body
    (check,) = world.github.check_runs(REPO, name="arborist/generate")
    assert (check.status, check.conclusion, check.updates >= 3) == ("completed", "success", True)
    assert world.github.count("create_check_run") == 1
    assert Path(job.log_url).read_text().count("::arborist-progress::") == 3 - 1


def test_a_failing_step_fails_the_job_with_the_log_tail(tmp_path):
    world = queued_world(tmp_path)
    cmd = step(tmp_path, """
        print("loading teacher")
        print("Traceback: CUDA out of memory", file=sys.stderr)
        sys.exit(3)
        """)
    job = worker_for(world, cmd).run_once()
    assert job.state == FAILED and job.reason == "exit code 3"
    assert "exited with code 3" in job.result_title and "CUDA out of memory" in job.result_md
    (check,) = world.github.check_runs(REPO, name="arborist/generate")
    assert check.conclusion == "failure"
    assert "/retry" in world.status_comments()[0].body


def test_a_step_claiming_success_but_exiting_non_zero_has_failed(tmp_path):
    world = queued_world(tmp_path)
    job = worker_for(world, step(tmp_path, 'result("success", "all good")\nsys.exit(1)')).run_once()
    assert job.state == FAILED


def test_the_real_ci_generate_step_runs_under_the_worker_and_its_failure_is_reported(tmp_path):
    world = queued_world(tmp_path)  # the repository does not exist anywhere: the real step must fail, loudly
    env = {**os.environ, "PYTHONPATH": str(Path(__file__).resolve().parents[3]),
           "ARBORIST_GIT_URL_TEMPLATE": (tmp_path / "nowhere").as_uri() + "/{repo}.git"}
    worker = Worker(world.service, client_for=lambda job: world.github, sleep=lambda s: None, env=env)
    job = worker.run_once()
    assert job.state == FAILED and job.result_title
    assert job.result_title in world.status_comments()[0].body
    assert "ci.generate" in Path(job.log_url).read_text() or job.result_md


def test_a_step_over_its_timeout_is_killed_and_fails(tmp_path):
    world = queued_world(tmp_path, job_timeout_s=0.5)
    started = time.monotonic()
    job = worker_for(world, step(tmp_path, "time.sleep(60)")).run_once()
    assert time.monotonic() - started < 10
    assert job.state == FAILED and job.reason == "timed out"


def test_cancel_kills_the_whole_process_group_of_a_running_step(tmp_path):
    world = queued_world(tmp_path)
    pids = tmp_path / "pids"
    cmd = step(tmp_path, f"""
        import subprocess
        child = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(60)"])
        open({str(pids)!r}, "w").write(f"{{os.getpid()}} {{child.pid}}")
        progress("working", 0.1)
        time.sleep(60)
        """)
    worker = worker_for(world, cmd)
    runner = threading.Thread(target=worker.run_once)
    runner.start()
    deadline = time.monotonic() + 20
    while not pids.exists() and time.monotonic() < deadline:
        time.sleep(0.05)
    on_comment_created(comment_event("/cancel"), world.ctx)
    runner.join(timeout=20)
    assert not runner.is_alive()
    (job,) = world.store.jobs()
    assert job.state == CANCELLED and job.reason == "cancelled by @maya"
    for pid in map(int, pids.read_text().split()):
        assert not _alive(pid)
    (check,) = world.github.check_runs(REPO, name="arborist/generate")
    assert check.conclusion == "cancelled"


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    try:  # a zombie still answers kill(0): read its state
        return Path(f"/proc/{pid}/stat").read_text().split()[2] != "Z"
    except OSError:
        return False


def test_ci_command_passes_the_job_inputs_only():
    from bot.jobs.model import Job

    job = Job(id=5, kind="generate", repo="o/r", sha=HEAD, state=RUNNING, pr=7, status_comment_id=11,
              check_run_id=12, args={"samples": 4, "leaves": ["knowledge/a", "knowledge/b"]})
    cmd = ci_command(job, python="py")
    assert cmd == ["py", "-m", "ci.generate", "--repo", "o/r", "--sha", HEAD, "--job-id", "5", "--pr", "7",
                   "--status-comment-id", "11", "--samples", "4", "--leaf", "knowledge/a", "--leaf", "knowledge/b",
                   "--check-run-id", "12"]
    from ci.generate import parse_args

    args = parse_args(cmd[3:])
    assert (args.repo, args.pr, args.job_id, args.samples, args.leaf) == ("o/r", 7, 5, 4, ["knowledge/a", "knowledge/b"])


def test_secrets_in_the_environment_are_masked_in_the_log(tmp_path):
    world = queued_world(tmp_path)
    token = "ghs_" + "x" * 30
    cmd = step(tmp_path, 'print("token is", os.environ["ARBORIST_GIT_TOKEN"])')
    worker = worker_for(world, cmd, extra_env_for=lambda job: {"ARBORIST_GIT_TOKEN": token})
    job = worker.run_once()
    log = Path(job.log_url).read_text()
    assert token not in log and "token is ***" in log
    assert all(token not in c.body for c in world.github.comments_on(REPO, 7))


class FlakyGitHub:
    """Wraps the fake: the first N edits and check-run updates fail as a GitHub 502 would."""

    def __init__(self, inner, failures: int):
        self.inner, self.failures = inner, failures

    def __getattr__(self, name):
        attr = getattr(self.inner, name)
        if name not in ("edit_comment", "update_check_run"):
            return attr

        def call(*args, **kwargs):
            if self.failures > 0:
                self.failures -= 1
                raise ConnectionError("502 Bad Gateway")
            return attr(*args, **kwargs)
        return call


def test_github_failures_while_publishing_lose_nothing_and_post_one_result(tmp_path):
    world = queued_world(tmp_path)
    flaky = FlakyGitHub(world.github, failures=5)
    worker = Worker(world.service, client_for=lambda job: flaky,
                    command_for=lambda job: step(tmp_path, 'result("success", "done it")'), sleep=lambda s: None)
    job = worker.run_once()
    assert job.state == SUCCEEDED
    (status,) = world.status_comments()
    assert "Done: done it" in status.body
    assert world.github.check_runs(REPO, name="arborist/generate")[0].conclusion == "success"


WORKER_SCRIPT = """
import sys
from sandbox.fakes.github import FakeGitHub
from bot.jobs.service import JobService
from bot.jobs.settings import JobSettings
from bot.jobs.store import JobStore
from bot.jobs.worker import Worker
settings = JobSettings(data_dir=sys.argv[1], lease_s=1.0, heartbeat_s=0.2, poll_s=0.05)
service = JobService(JobStore(settings.db_path), settings)
fake = FakeGitHub()
Worker(service, client_for=lambda job: fake, command_for=lambda job: sys.argv[2:]).run_once()
"""


def test_a_worker_sigkilled_mid_job_loses_nothing_and_the_job_ends_once(tmp_path):
    world = queued_world(tmp_path, lease_s=1.0, heartbeat_s=0.2)
    pid_file = tmp_path / "step.pid"
    slow = step(tmp_path, f'open({str(pid_file)!r}, "w").write(str(os.getpid()))\nprogress("busy", 0.5)\n'
                          'time.sleep(120)', name="slow.py")
    script = tmp_path / "worker.py"
    script.write_text(WORKER_SCRIPT)
    env = {**os.environ, "PYTHONPATH": str(Path(__file__).resolve().parents[3])}
    proc = subprocess.Popen([sys.executable, str(script), str(world.settings.data_dir), *slow], env=env)
    deadline = time.monotonic() + 30
    while not pid_file.exists() and time.monotonic() < deadline:
        time.sleep(0.05)
    assert world.store.jobs()[0].state == RUNNING
    proc.send_signal(signal.SIGKILL)
    proc.wait(timeout=10)
    step_pid = int(pid_file.read_text())
    deadline = time.monotonic() + 10
    while _alive(step_pid) and time.monotonic() < deadline:
        time.sleep(0.05)
    assert not _alive(step_pid), "the step outlived its worker"
    time.sleep(1.2)  # the lease runs out
    survivor = worker_for(world, step(tmp_path, 'result("success", "second time lucky")', name="ok.py"))
    job = survivor.run_once()
    assert job.state == SUCCEEDED and job.attempts == 2
    assert [j.state for j in world.store.jobs()] == [SUCCEEDED]
    assert survivor.run_once() is None  # nothing left, nothing run twice
    (status,) = world.status_comments()
    assert "Done: second time lucky" in status.body
    (check,) = world.github.check_runs(REPO, name="arborist/generate")
    assert check.conclusion == "success"


def test_a_restarted_bot_and_worker_pick_up_queued_and_orphaned_running_jobs(tmp_path):
    world = queued_world(tmp_path)
    on_comment_created(comment_event("/generate --samples 3", number=7), world.ctx)  # a second, queued job
    first = world.store.jobs()[0]
    world.store.claim("worker-that-died", 0.5)  # running, then its machine went away
    world.store.close()
    time.sleep(0.6)
    from bot.jobs.service import JobService
    from bot.jobs.store import JobStore

    restarted = JobService(JobStore(world.settings.db_path), world.settings)
    worker = Worker(restarted, client_for=lambda job: world.github, sleep=lambda s: None,
                    command_for=lambda job: step(tmp_path, 'result("success", "ok")'))
    assert worker.run_forever(max_jobs=2) == 2
    assert worker.run_once() is None
    states = {j.id: (j.state, j.attempts) for j in restarted.store.jobs()}
    assert states[first.id] == (SUCCEEDED, 2)
    assert [s for s, _ in states.values()] == [SUCCEEDED, SUCCEEDED]
    assert QUEUED not in [s for s, _ in states.values()]


def test_a_worker_shutting_down_stops_the_step_and_gives_the_job_back(tmp_path):
    world = queued_world(tmp_path)
    pid_file = tmp_path / "pid"
    worker = worker_for(world, step(tmp_path, f'open({str(pid_file)!r}, "w").write(str(os.getpid()))\n'
                                              'time.sleep(60)'))
    runner = threading.Thread(target=worker.run_once)
    runner.start()
    deadline = time.monotonic() + 20
    while not pid_file.exists() and time.monotonic() < deadline:
        time.sleep(0.05)
    worker.shutdown()  # what SIGTERM does in `arborist worker`
    runner.join(timeout=20)
    (job,) = world.store.jobs()
    assert (job.state, job.attempts, job.lease_owner) == (QUEUED, 0, None)
    assert not _alive(int(pid_file.read_text()))
    assert "position 1 in the queue" in world.status_comments()[0].body


def test_a_worker_reports_its_heartbeat_with_its_job_and_leaves_when_stopped(tmp_path):
    world = queued_world(tmp_path)
    seen: list[tuple[str, int | None]] = []
    cmd = step(tmp_path, """
        progress("working", 0.5)
        time.sleep(0.6)
        result("success", "done")
        """)
    worker = worker_for(world, cmd)
    beats = world.service.heartbeats
    original = beats.beat
    beats.beat = lambda who, job_id: (seen.append((who, job_id)), original(who, job_id))[1]
    assert worker.run_forever(max_jobs=1) == 1
    assert (worker.worker_id, None) in seen  # polled while idle
    assert seen.count((worker.worker_id, 1)) >= 2  # claimed job 1, then renewed its lease while running it
    assert beats.workers() == []  # stopped cleanly: no longer listed
