"""The bot serving over real HTTP against the GitHub stand-in, and the environment of a real `arborist worker`
beside it: the set-up every end-to-end job test (/generate, /precheck, /preview) shares."""

from __future__ import annotations

import os
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import httpx

from bot.jobs.service import JobService
from bot.jobs.settings import JobSettings
from bot.jobs.store import JobStore
from bot.server import create_app
from lab.github.factory import app_client_factory
from sandbox.standins.github import serve_app_in_thread
from tests.bot.helpers import settings_for

ROOT = Path(__file__).resolve().parents[3]


@contextmanager
def served_bot(standin: Any, app_key: Any, tmp_path: Path, no_sleep: Any,
               worker_env: dict[str, str]) -> Iterator[tuple[httpx.Client, Any, JobService, dict[str, str]]]:
    """(a client of the serving bot, its dispatcher, its jobs, a worker's environment with `worker_env` on top);
    the server stops when the block ends."""
    settings = settings_for(tmp_path, github_url=standin.base_url, private_key=app_key[0])
    jobs = JobService(JobStore(tmp_path / "jobs.sqlite3"), JobSettings(data_dir=tmp_path))
    app = create_app(settings, app_client_factory(settings, policy=no_sleep), jobs=jobs)
    running = serve_app_in_thread(app)
    key = tmp_path / "app.pem"
    key.write_text(app_key[0])
    env = {**os.environ, "PYTHONPATH": str(ROOT), "ARBORIST_DATA_DIR": str(tmp_path),
           "ARBORIST_GITHUB_URL": standin.base_url, "ARBORIST_GITHUB_API_URL": standin.base_url,
           "ARBORIST_APP_ID": "7", "ARBORIST_PRIVATE_KEY_FILE": str(key), "ARBORIST_HEARTBEAT_S": "0.5",
           **worker_env}
    try:
        with httpx.Client(base_url=running.base_url, timeout=10) as client:
            yield client, app.state.dispatcher, jobs, env
    finally:
        running.stop()
