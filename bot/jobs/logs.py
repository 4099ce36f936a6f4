"""Read a job's logs for the bot's `/jobs/{id}/log` link: every attempt, newest last, tail-bounded.

The worker writes one file per attempt (`job-<id>-attempt-<n>.log`) with secrets already masked; this
module only reads them back, so the status comment's log link works for people on the PR.
"""

from __future__ import annotations

import re
from pathlib import Path

MAX_LOG_BYTES = 1_000_000  # the most of a job's log one request returns (its tail), bytes
_ATTEMPT = re.compile(r"^job-(\d+)-attempt-(\d+)\.log$")


def attempt_logs(log_dir: Path, job_id: int) -> list[tuple[int, Path]]:
    """(attempt, path) of each attempt's log of `job_id`, in attempt order."""
    if not log_dir.is_dir():
        return []
    found = []
    for path in log_dir.iterdir():
        match = _ATTEMPT.match(path.name)
        if match and int(match.group(1)) == job_id and path.is_file() and not path.is_symlink():
            found.append((int(match.group(2)), path))
    return sorted(found)


def read_job_log(log_dir: Path, job_id: int, max_bytes: int = MAX_LOG_BYTES) -> str | None:
    """All attempts' logs of a job under one header each, cut to the last `max_bytes`; None if none exist."""
    logs = attempt_logs(log_dir, job_id)
    if not logs:
        return None
    parts = [f"===== job {job_id}, attempt {attempt} =====\n{path.read_text(errors='replace')}" for attempt, path in logs]
    text = "\n".join(parts)
    data = text.encode()
    if len(data) > max_bytes:
        text = f"[first {len(data) - max_bytes} bytes cut]\n" + data[-max_bytes:].decode(errors="replace")
    return text
