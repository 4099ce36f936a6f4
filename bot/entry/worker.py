"""`arborist worker`: claim queued jobs from the shared store and run their ci steps, one at a time.

Run one per GPU (`--gpu N`, or CUDA_VISIBLE_DEVICES set by the caller, which the step inherits).
Settings come from the environment, like the bot's: ARBORIST_DATA_DIR (the store the bot writes),
ARBORIST_GITHUB_URL, ARBORIST_APP_ID and ARBORIST_PRIVATE_KEY_FILE (to edit status comments and
check runs), and the job settings in `bot.jobs.settings`. SIGTERM or Ctrl-C stops the step and gives
the job back to the queue; SIGKILL loses nothing either (the lease runs out). With
ARBORIST_EXECUTOR=ray it runs no step itself: each claimed job's step runs as a Ray job on the
cluster at ARBORIST_RAY_ADDRESS, and the worker follows it (`bot.jobs.ray_executor`; no GPU needed).
"""

from __future__ import annotations

import argparse
import logging
import os
import signal
import sys
from typing import Any

WORKER_SECRET_PLACEHOLDER = "unused-by-the-worker"  # the worker never receives webhooks


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--gpu", default=None, help="run steps on this GPU (sets CUDA_VISIBLE_DEVICES for them)")
    parser.add_argument("--once", action="store_true", help="run until the queue is empty, then exit")
    parser.add_argument("--max-jobs", type=int, default=None, help="exit after this many jobs")
    parser.add_argument("--log-level", default="info", choices=["debug", "info", "warning", "error"])


def _github(environ: dict[str, str]) -> tuple[Any, Any]:
    """(client for a job, extra step env for a job) from the App's settings."""
    from bot.settings import load_settings
    from lab.github.factory import app_client_factory

    env = dict(environ)
    env.setdefault("ARBORIST_WEBHOOK_SECRET", WORKER_SECRET_PLACEHOLDER)
    factory: Any = app_client_factory(load_settings(env))
    clients: dict[int | None, Any] = {}

    def client_for(job):
        if job.installation_id not in clients:
            clients[job.installation_id] = factory(job.installation_id)
        return clients[job.installation_id]

    api_url = env.get("ARBORIST_GITHUB_API_URL") or env.get("ARBORIST_GITHUB_URL") or ""

    def extra_env_for(job) -> dict[str, str]:
        """A fresh installation token for the step: git fetches (as a header) and its own API calls."""
        if job.installation_id is None:
            return {}
        try:
            token = factory.auth.token(job.installation_id)
            extra = {"ARBORIST_GIT_TOKEN": token, "ARBORIST_GITHUB_TOKEN": token}
            return {**extra, "ARBORIST_GITHUB_API_URL": api_url} if api_url else extra
        except Exception as exc:  # noqa: BLE001 - a public repository still fetches without one
            logging.getLogger("arborist.worker").warning("no git token for job %s: %s", job.id, type(exc).__name__)
            return {}

    return client_for, extra_env_for


def run(args: argparse.Namespace) -> int:
    from bot.jobs.service import JobService
    from bot.jobs.settings import JobSettings
    from bot.jobs.worker import Worker
    from bot.settings import SettingsError

    logging.basicConfig(level=args.log_level.upper(), format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    environ = dict(os.environ)
    if args.gpu is not None:
        environ["CUDA_VISIBLE_DEVICES"] = str(args.gpu)
    from bot.storage import StorageError

    try:
        settings = JobSettings.from_environ(environ)
        client_for, extra_env_for = _github(environ)
        service = JobService.open(settings)
    except (SettingsError, StorageError, ValueError) as exc:  # one line naming the setting or the file
        print(f"arborist worker: {exc}", file=sys.stderr)
        return 2
    runner: type[Worker] = Worker
    if settings.executor == "ray":  # claims as above, but the step runs as a Ray job on the cluster
        from bot.jobs.ray_executor import RayWorker

        runner = RayWorker
    worker = runner(service, client_for=client_for, env=environ, extra_env_for=extra_env_for)
    for sig in (signal.SIGTERM, signal.SIGINT):
        signal.signal(sig, lambda *_: worker.shutdown())
    logging.getLogger("arborist.worker").info(
        "worker %s on %s (GPU %s)", worker.worker_id, settings.db_path, environ.get("CUDA_VISIBLE_DEVICES", "all"))
    if args.once:
        done = 0
        while (args.max_jobs is None or done < args.max_jobs) and worker.run_once() is not None:
            done += 1
        return 0
    worker.run_forever(max_jobs=args.max_jobs)
    return 0
