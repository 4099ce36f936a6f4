"""`arborist serve` as a real process on a free loopback port, for tests that attack it from outside."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import httpx

from tests.bot.helpers import SECRET
from tests.conftest import REPO_ROOT

PLACEHOLDER_KEY = "-----BEGIN PRIVATE KEY-----\nMIIB\n-----END PRIVATE KEY-----\n"


@dataclass
class Served:
    base_url: str
    host: str
    port: int
    process: subprocess.Popen
    log: Path

    def rss_mb(self, field: str = "VmRSS") -> float:
        """The process's resident memory now (VmRSS) or at its peak so far (VmHWM), in MiB."""
        for line in Path(f"/proc/{self.process.pid}/status").read_text().splitlines():
            if line.startswith(field + ":"):
                return int(line.split()[1]) / 1024
        raise RuntimeError(f"no {field} for pid {self.process.pid}")

    def healthz_seconds(self, timeout: float = 5.0) -> float:
        """Seconds one GET /healthz takes on a fresh connection (timeout + 1 when it does not answer 200)."""
        started = time.monotonic()
        try:
            answer = httpx.get(self.base_url + "/healthz", timeout=timeout)
        except httpx.HTTPError:
            return timeout + 1
        elapsed = time.monotonic() - started
        return elapsed if answer.status_code == 200 else timeout + 1


@contextmanager
def healthz_probe(served: Served, folder: Path) -> Iterator[list[float]]:
    """Ask /healthz four times a second from a separate process (so the attackers' own load does not
    count); the list fills with the seconds each answer took (99 for no 200) when the block ends."""
    out, stop = folder / "probe.txt", folder / "probe.stop"
    stop.unlink(missing_ok=True)
    process = subprocess.Popen([sys.executable, "-m", "tests.bot.healthz_probe", served.host, str(served.port), str(out),
                                str(stop)], cwd=REPO_ROOT)
    seconds: list[float] = []
    try:
        yield seconds
    finally:
        stop.touch()
        process.wait(15)
        seconds.extend(float(line) for line in out.read_text().split())


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@contextmanager
def arborist_serve(tmp_path: Path, settings: dict[str, str] | None = None, *, github_url: str = "http://127.0.0.1:9",
                   private_key: str = PLACEHOLDER_KEY) -> Iterator[Served]:
    """Start `python -m bot.cli serve` with these ARBORIST_* settings; stop it (SIGTERM, then SIGKILL) after."""
    port = free_port()
    key = tmp_path / "app.pem"
    key.write_text(private_key)
    env = {**os.environ, "ARBORIST_APP_ID": "7", "ARBORIST_PRIVATE_KEY_FILE": str(key),
           "ARBORIST_WEBHOOK_SECRET": SECRET.decode(), "ARBORIST_DATA_DIR": str(tmp_path / "data"),
           "ARBORIST_GITHUB_URL": github_url, **(settings or {})}
    log = tmp_path / "serve.log"
    with open(log, "wb") as out:
        process = subprocess.Popen([sys.executable, "-m", "bot.cli", "serve", "--port", str(port), "--log-level",
                                    "warning"], cwd=REPO_ROOT, env=env, stdout=out, stderr=subprocess.STDOUT)
    served = Served(f"http://127.0.0.1:{port}", "127.0.0.1", port, process, log)
    try:
        deadline = time.monotonic() + 60
        while served.healthz_seconds(1.0) > 1.0:
            if process.poll() is not None or time.monotonic() > deadline:
                raise RuntimeError(f"arborist serve did not start: {log.read_text()[-2000:]}")
            time.sleep(0.1)
        yield served
    finally:
        process.terminate()
        try:
            process.wait(15)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(5)
