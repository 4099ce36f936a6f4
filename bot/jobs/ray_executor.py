"""Jobs on a Ray cluster: a worker claims a job as the local one does, runs its ci step as a Ray job, follows it.

`arborist worker` with ARBORIST_EXECUTOR=ray runs no step itself. It claims a queued job with a
lease and submits the step to the cluster's job server (`JobSubmissionClient`): a fixed entrypoint
(`python -m bot.jobs.ray_executor`, which execs `python -m ci.<kind>`) with the job's inputs as data
in the runtime_env's variables, never code from a PR. Then it polls the Ray job: the log is copied,
masked, into the job's log file (what `/jobs/{id}/log` serves), its step lines become progress on the
status comment and check run, and `/cancel` stops the Ray job. A head that cannot be reached, or a
Ray job that ends without the step's own exit code, costs one attempt: the job is queued again while
it has attempts left, else it fails with that reason. Every write is fenced on the lease: one result.
"""

from __future__ import annotations

import json
import logging
import os
import sys
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any, TextIO

from bot.jobs.executors import LocalExecutor
from bot.jobs.model import FAILED, KINDS, Job
from bot.jobs.settings import JobSettings
from bot.jobs.worker import LOG_TAIL_CHARS, PUBLISH_TRIES, StepOutcome, Worker, ci_command
from schemas.masking import known_secrets, mask, register_secret

LOG = logging.getLogger("arborist.ray")
ENTRYPOINT = "python -m bot.jobs.ray_executor"  # fixed: the job's inputs travel as data, in ARGV_VAR
ARGV_VAR = "ARBORIST_STEP_ARGV"  # JSON list: ["-m", "ci.<kind>", "--repo", ...]
REQUEST_TIMEOUT_S = 10.0  # one request to the job server
UNREACHABLE_S = 60.0  # a followed job whose head stays unreachable this long costs the attempt
STOP_WAIT_S = 30.0  # after stop_job, how long the Ray job may take to end before we stop waiting
MAX_BACKOFF_S = 60.0  # the longest wait before the next claim after an attempt lost to the cluster
ENTRYPOINT_ERROR = "JOB_ENTRYPOINT_COMMAND_ERROR"  # the step exited non-zero itself: its own result, no retry
TERMINAL = ("SUCCEEDED", "FAILED", "STOPPED")
SIGNAL_EXIT = 128  # a shell reports a process killed by signal N as 128 + N (Python as -N)


class RayExecutor(LocalExecutor):
    """The bot's side: a job waits in the store until a Ray-mode worker claims it; /cancel flags it and
    that worker stops the Ray job; its log is the file that worker streams into."""

    name = "ray"


def auth_headers(raw: str) -> dict[str, str]:
    """ARBORIST_RAY_AUTH_HEADER ("Name: value") as request headers; the value is masked in every log."""
    if not raw:
        return {}
    name, _, value = raw.partition(":")
    register_secret(value.strip())
    return {name.strip(): value.strip()}


def connect(settings: JobSettings) -> Any:
    """A JobSubmissionClient for the settings' head, each request bounded by REQUEST_TIMEOUT_S."""
    from ray.job_submission import JobSubmissionClient

    class BoundedClient(JobSubmissionClient):
        def _do_request(self, method: str, endpoint: str, **kwargs: Any) -> Any:
            kwargs.setdefault("timeout", REQUEST_TIMEOUT_S)  # the SDK sets none: a silent head would hang us
            return super()._do_request(method, endpoint, **kwargs)

    return BoundedClient(settings.ray_address, headers=auth_headers(settings.ray_auth_header))


def step_env(job: Job, settings: JobSettings, environ: dict[str, str], extra: dict[str, str]) -> dict[str, str]:
    """The step's variables on the cluster: the named ones from here, the job's token, its argv as JSON."""
    names = [n.strip() for n in settings.ray_env.split(",") if n.strip()]
    env = {name: environ[name] for name in names if name in environ}
    env.update(extra)
    env.update({"ARBORIST_REPORT": "stdout", "PYTHONUNBUFFERED": "1", "RAY_NAMESPACE": settings.ray_namespace,
                ARGV_VAR: json.dumps(ci_command(job, python="python")[1:])})
    return env


def state_name(value: Any) -> str:
    """A Ray enum (JobStatus, JobErrorType) or its string, as its bare name: "RUNNING"."""
    return str(getattr(value, "value", value)).split(".")[-1]


def describe(exc: BaseException) -> str:
    text = " ".join(str(exc).split())[:300]
    return f"{type(exc).__name__}: {text}" if text else type(exc).__name__


@dataclass
class RayOutcome(StepOutcome):
    lost: str = ""  # why the attempt was lost to the cluster (not the step's own failure); "" when it was not
    submission_id: str = ""


@dataclass
class _Follow:
    """What the follow loop has seen of one Ray job so far."""

    offset: int = 0
    last_ok: float = 0.0
    last_beat: float = 0.0
    last_publish: float = -1e18
    stop_sent: float | None = None


class RayWorker(Worker):
    """A worker whose step is a Ray job: claim, submit, follow, finish, exactly as the local worker reports."""

    connect_to: Any = staticmethod(connect)  # settings -> JobSubmissionClient; tests may pass another

    def run_step(self, job: Job, log_path: Path) -> StepOutcome:
        environ = dict(os.environ if self.env is None else self.env)
        env = step_env(job, self.settings, environ, self.extra_env_for(job) if self.extra_env_for else {})
        secrets = known_secrets(env)
        log_path.parent.mkdir(parents=True, exist_ok=True)
        outcome = RayOutcome(log_path=log_path)
        with open(log_path, "w", encoding="utf-8") as log:
            try:
                client = self.connect_to(self.settings)
                self._stop_leftovers(client, job)
                outcome.submission_id = client.submit_job(
                    entrypoint=ENTRYPOINT, runtime_env=self._runtime_env(env),
                    submission_id=f"{self.settings.ray_namespace}-job-{job.id}-attempt-{job.attempts}-{os.urandom(3).hex()}",
                    metadata=self._metadata(job),
                    entrypoint_num_cpus=self.settings.ray_num_cpus, entrypoint_num_gpus=self.settings.ray_num_gpus)
            except Exception as exc:  # noqa: BLE001 - unreachable, refused, rejected: the attempt is lost, not the job
                outcome.lost = f"the Ray cluster at {self.settings.ray_address} did not take the job ({describe(exc)})"
                log.write(mask(outcome.lost, secrets) + "\n")
            else:
                log.write(f"submitted to the Ray cluster at {self.settings.ray_address} as {outcome.submission_id}\n")
                log.flush()
                self._follow(client, job, log, secrets, outcome)
        outcome.log_tail = log_path.read_text(encoding="utf-8", errors="replace")[-LOG_TAIL_CHARS:]
        return outcome

    def _runtime_env(self, env: dict[str, str]) -> dict[str, Any]:
        runtime_env: dict[str, Any] = {"env_vars": env}
        if self.settings.ray_pip:
            runtime_env["pip"] = [self.settings.ray_pip]
        return runtime_env

    def _metadata(self, job: Job) -> dict[str, str]:
        return {"arborist_namespace": self.settings.ray_namespace, "arborist_job": str(job.id), "repo": job.repo,
                "kind": job.kind}

    def _ours(self, metadata: dict[str, str], job: Job) -> bool:
        """An earlier attempt of this job, from this deployment (its namespace), not another bot's job."""
        return metadata.get("arborist_namespace") == self.settings.ray_namespace \
            and metadata.get("arborist_job") == str(job.id)

    def _stop_leftovers(self, client: Any, job: Job) -> None:
        """An earlier attempt's Ray job that outlived its worker (it died) is stopped before a new one starts."""
        for info in client.list_jobs():
            if self._ours(info.metadata or {}, job) and state_name(info.status) not in TERMINAL and info.submission_id:
                LOG.warning("job %s: stopping Ray job %s left by an earlier attempt", job.id, info.submission_id)
                client.stop_job(info.submission_id)

    def _follow(self, client: Any, job: Job, log: TextIO, secrets: list[str], outcome: RayOutcome) -> None:
        """Poll status and log until the Ray job ends; stop it on cancel, shutdown, lost lease or timeout."""
        started = time.monotonic()
        seen = _Follow(last_ok=started, last_beat=started)
        while True:
            now = time.monotonic()
            if now - seen.last_beat >= self.settings.heartbeat_s or self._shutdown.is_set():
                seen.last_beat = now
                self._beat(job, outcome)
            if now - started > self.settings.job_timeout_s:
                outcome.timed_out = True
            if seen.stop_sent is None and (outcome.cancelled or outcome.released or outcome.lease_lost
                                           or outcome.timed_out):
                seen.stop_sent = now
                self._stop_ray_job(client, outcome.submission_id)
            try:
                status = state_name(client.get_job_status(outcome.submission_id))
                text = client.get_job_logs(outcome.submission_id)
            except Exception as exc:  # noqa: BLE001 - the head may come back; give it UNREACHABLE_S
                if now - seen.last_ok > UNREACHABLE_S:
                    outcome.lost = f"the Ray cluster stopped answering for {UNREACHABLE_S:.0f} s ({describe(exc)})"
                    log.write(outcome.lost + "\n")
                    return
            else:
                seen.last_ok = now
                final = status in TERMINAL
                self._take(job, text, final, log, secrets, outcome, seen)
                if final:
                    self._conclude(client, status, outcome)
                    return
            if seen.stop_sent is not None and now - seen.stop_sent > STOP_WAIT_S:
                return  # stopped as far as we can tell; the next attempt's claim stops leftovers too
            time.sleep(self.settings.poll_s)

    def _beat(self, job: Job, outcome: RayOutcome) -> None:
        """Renew the lease and read what it says: shutting down, lease lost, or cancel requested."""
        current = self.store.heartbeat(job.id, self.worker_id, self.settings.lease_s)
        if self._shutdown.is_set():
            outcome.released = True
        elif current is None:
            outcome.lease_lost = True
        elif current.cancel_requested:
            outcome.cancelled = True

    @staticmethod
    def _stop_ray_job(client: Any, submission_id: str) -> None:
        try:
            client.stop_job(submission_id)
        except Exception as exc:  # noqa: BLE001 - it may have ended already; the status says
            LOG.warning("could not stop Ray job %s: %s", submission_id, describe(exc))

    def _take(self, job: Job, text: str, final: bool, log: TextIO, secrets: list[str], outcome: RayOutcome,
              seen: _Follow) -> None:
        """The log's new complete lines (all of it once the job ended): to the file, and as progress."""
        end = len(text) if final else text.rfind("\n", seen.offset) + 1
        if end <= seen.offset:
            return
        chunk, seen.offset = text[seen.offset:end], end
        for raw in chunk.splitlines(keepends=True):
            seen.last_publish = self._relay(job, raw, secrets, log, outcome, seen.last_publish)

    @staticmethod
    def _conclude(client: Any, status: str, outcome: RayOutcome) -> None:
        """The Ray job ended: the step's exit code, or why the cluster lost it."""
        asked = outcome.cancelled or outcome.released or outcome.lease_lost or outcome.timed_out
        if status == "SUCCEEDED":
            outcome.returncode = 0
            return
        if status == "STOPPED":
            outcome.returncode = -15
            if not asked:
                outcome.lost = "the Ray job was stopped on the cluster, not by Arborist"
            return
        try:
            info = client.get_job_info(outcome.submission_id)
            error, code, message = state_name(info.error_type or ""), info.driver_exit_code, info.message or ""
        except Exception as exc:  # noqa: BLE001
            error, code, message = "", None, describe(exc)
        killed = code is not None and (code < 0 or code >= SIGNAL_EXIT)  # OOM killer, a node going away
        if error == ENTRYPOINT_ERROR and code is not None and not (killed and not asked):
            outcome.returncode = int(code)  # the step's own failure, reported by its result line
        elif killed and not asked:
            outcome.lost = f"the step was killed on the cluster (exit code {code})"
        elif not asked:
            outcome.lost = f"the Ray job died ({error or 'unknown error'}: {' '.join(message.split())[:300]})"

    def finish(self, job: Job, outcome: StepOutcome) -> Job | None:
        lost = getattr(outcome, "lost", "")
        if not lost or outcome.cancelled or outcome.released or outcome.lease_lost \
                or self.store.get(job.id).cancel_requested:
            return super().finish(job, outcome)
        if job.attempts < job.max_attempts:
            final = self.store.requeue(job.id, self.worker_id, f"attempt {job.attempts} of {job.max_attempts} was lost: {lost}")
        else:
            final = self.store.finish(job.id, self.worker_id, FAILED, reason=lost,
                                      result_title=f"{lost} (attempt {job.attempts} of {job.max_attempts})",
                                      result_md=self._tail_md(outcome))
        if final is None:
            LOG.error("job %s: the lease was taken over; result dropped", job.id)
            return None
        LOG.warning("job %s: %s; now %s", job.id, lost, final.state)
        self._publish(final, tries=PUBLISH_TRIES)
        if final.state != FAILED:  # back off before the next claim: the cluster may need a moment
            self._stop.wait(min(MAX_BACKOFF_S, self.settings.poll_s * 2 ** job.attempts))
        return final


def main(environ: dict[str, str] | None = None) -> int:
    """On the cluster: exec `python -m ci.<kind> ...` from ARBORIST_STEP_ARGV (no shell, nothing else runs)."""
    env = os.environ if environ is None else environ
    try:
        argv = json.loads(env.get(ARGV_VAR, ""))
    except ValueError:
        argv = None
    steps = {f"ci.{kind}" for kind in KINDS}
    if not (isinstance(argv, list) and len(argv) >= 2 and all(isinstance(a, str) for a in argv)
            and argv[0] == "-m" and argv[1] in steps):
        print(f"{ARGV_VAR}: expected a JSON list that starts with -m ci.<step>", file=sys.stderr)
        return 2
    sys.stdout.flush()
    os.execv(sys.executable, [sys.executable, *argv])
    return 0  # not reached


if __name__ == "__main__":
    sys.exit(main())
