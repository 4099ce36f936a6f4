"""Child processes and threads of the demo, bound to 127.0.0.1 and always cleaned up.

Each child runs in its own session, so stopping it also stops what it started (a worker's `ci`
subprocess). Output goes to a log file per child; when a child dies early, its log tail is the
error message.
"""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

LOOPBACK = "127.0.0.1"
STOP_GRACE_S = 5.0  # seconds between SIGTERM and SIGKILL
LOG_TAIL_CHARS = 2000


def _die_with_parent() -> None:
    """Linux: the child gets SIGTERM if the demo itself is killed (even by SIGKILL, where no cleanup runs)."""
    try:
        import ctypes

        ctypes.CDLL("libc.so.6", use_errno=True).prctl(1, signal.SIGTERM)  # PR_SET_PDEATHSIG
    except (OSError, AttributeError):
        pass  # not Linux: close() still stops children on every normal or Ctrl-C exit


def free_port() -> int:
    """A TCP port on 127.0.0.1 that nothing listens on right now."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind((LOOPBACK, 0))
        return int(sock.getsockname()[1])


def wait_for_port(port: int, timeout_s: float, alive: Callable[[], bool] = lambda: True) -> None:
    """Block until something accepts connections on 127.0.0.1:port, or raise TimeoutError."""
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        if not alive():
            raise RuntimeError(f"process for port {port} exited before listening")
        try:
            with socket.create_connection((LOOPBACK, port), timeout=0.5):
                return
        except OSError:
            time.sleep(0.1)
    raise TimeoutError(f"nothing listened on {LOOPBACK}:{port} within {timeout_s:.0f}s")


@dataclass
class Child:
    name: str
    proc: subprocess.Popen
    log_path: Path

    def alive(self) -> bool:
        return self.proc.poll() is None

    def log_tail(self, chars: int = LOG_TAIL_CHARS) -> str:
        try:
            text = self.log_path.read_text(encoding="utf-8", errors="replace")
        except OSError:
            return ""
        return text[-chars:]


@dataclass
class Processes:
    """Starts children and background threads; `close()` stops them all, in reverse order."""

    log_dir: Path
    children: list[Child] = field(default_factory=list)
    closers: list[Callable[[], None]] = field(default_factory=list)

    def start(self, name: str, argv: list[str], env: dict[str, str], cwd: Path | None = None) -> Child:
        self.log_dir.mkdir(parents=True, exist_ok=True)
        log_path = self.log_dir / f"{name}.log"
        log = open(log_path, "wb")  # noqa: SIM115 - the child owns it for its lifetime
        try:
            proc = subprocess.Popen(
                argv, env=env, cwd=cwd, stdin=subprocess.DEVNULL, stdout=log, stderr=subprocess.STDOUT,
                start_new_session=True, preexec_fn=_die_with_parent if sys.platform == "linux" else None,
            )
        finally:
            log.close()
        child = Child(name, proc, log_path)
        self.children.append(child)
        return child

    def thread(self, name: str, target: Callable[[], None], stop: Callable[[], None]) -> threading.Thread:
        """Run `target` in a daemon thread; `stop` is called on close."""
        worker = threading.Thread(target=target, name=f"demo-{name}", daemon=True)
        worker.start()
        self.closers.append(stop)
        return worker

    def on_close(self, closer: Callable[[], None]) -> None:
        self.closers.append(closer)

    def cpu_seconds(self) -> float:
        """CPU time of this process and its children, including the bot's and the worker's finished jobs."""
        mine = os.times()
        total = mine.user + mine.system + mine.children_user + mine.children_system
        return total + sum(_proc_cpu(child.proc.pid) for child in self.children if child.alive())

    def check_alive(self) -> None:
        """Raise with the child's log tail if any child has died."""
        for child in self.children:
            code = child.proc.poll()
            if code is not None:
                raise RuntimeError(f"{child.name} exited with code {code}:\n{child.log_tail()}")

    def close(self) -> None:
        for child in reversed(self.children):
            _stop(child.proc)
        self.children.clear()
        while self.closers:
            closer = self.closers.pop()
            try:
                closer()
            except Exception:  # cleanup must go on for the rest
                pass


def _proc_cpu(pid: int) -> float:
    """utime + stime + reaped children's, from /proc (Linux); 0 where unreadable."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
        return sum(int(v) for v in fields[11:15]) / os.sysconf("SC_CLK_TCK")
    except (OSError, ValueError, IndexError):
        return 0.0


def _stop(proc: subprocess.Popen) -> None:
    """SIGTERM the child's process group, then SIGKILL it if it lingers."""
    if proc.poll() is not None:
        return
    try:
        os.killpg(proc.pid, signal.SIGTERM)
    except ProcessLookupError:
        return
    try:
        proc.wait(timeout=STOP_GRACE_S)
    except subprocess.TimeoutExpired:
        try:
            os.killpg(proc.pid, signal.SIGKILL)
        except ProcessLookupError:
            pass
        proc.wait(timeout=STOP_GRACE_S)
