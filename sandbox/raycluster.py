"""A real local Ray cluster for tests, benchmarks and the demo: `ray start --head --block` in a short temp dir,
stopped after."""

from __future__ import annotations

import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

START_TIMEOUT_S = 120  # the head and its job server answering, on a busy 2-core machine
REPO_ROOT = Path(__file__).resolve().parents[1]  # a checkout: its packages go on the nodes' path


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@dataclass(frozen=True)
class RayHead:
    jobs_url: str  # the job server (JobSubmissionClient), as the bot's Ray executor reaches it
    gcs_address: str  # host:port for `ray.init(address=...)`, as a driver inside a job reaches it


@contextmanager
def local_ray_head(num_cpus: int = 2) -> Iterator[str]:
    """Start a head with its job server on free loopback ports; yield the job server's URL; stop it."""
    with local_ray_cluster(num_cpus) as head:
        yield head.jobs_url


@contextmanager
def local_ray_cluster(num_cpus: int = 2) -> Iterator[RayHead]:
    """Start a head with its job server on free loopback ports; yield both addresses; stop it."""
    from ray.job_submission import JobSubmissionClient

    temp = Path(tempfile.mkdtemp(prefix="ray-", dir="/tmp"))  # short: Ray's socket paths have a length limit
    dashboard, gcs = free_port(), free_port()
    venv_bin = Path(sys.executable).parent
    env = {**os.environ, "PATH": f"{venv_bin}:{os.environ.get('PATH', '/usr/bin:/bin')}",
           "RAY_USAGE_STATS_ENABLED": "0"}
    if (REPO_ROOT / "pyproject.toml").is_file():
        env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(REPO_ROOT), os.environ.get("PYTHONPATH", "")]))
    cmd = [str(venv_bin / "ray"), "start", "--head", "--block", "--num-cpus", str(num_cpus), "--port", str(gcs),
           "--include-dashboard", "true", "--dashboard-host", "127.0.0.1", "--dashboard-port", str(dashboard),
           "--dashboard-agent-listen-port", str(free_port()), "--ray-client-server-port", str(free_port()),
           "--temp-dir", str(temp), "--disable-usage-stats"]
    log = open(temp / "ray-start.log", "w")
    proc = subprocess.Popen(cmd, env=env, stdout=log, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL,
                            start_new_session=True)
    address = f"http://127.0.0.1:{dashboard}"
    deadline = time.monotonic() + START_TIMEOUT_S
    try:
        while True:
            try:
                JobSubmissionClient(address).list_jobs()
                break
            except Exception:  # noqa: BLE001 - not up yet
                if proc.poll() is not None or time.monotonic() > deadline:
                    raise RuntimeError(f"the Ray head did not start: {(temp / 'ray-start.log').read_text()[-2000:]}") from None
                time.sleep(1)
        yield RayHead(address, f"127.0.0.1:{gcs}")
    finally:
        proc.send_signal(signal.SIGTERM)  # `ray start --block` stops every process it started
        try:
            proc.wait(timeout=60)
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait()
        log.close()
        shutil.rmtree(temp, ignore_errors=True)
