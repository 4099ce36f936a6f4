"""`arborist serve`: the webhook endpoint (FastAPI under uvicorn), configured from the environment.

Settings are read once here; a missing or malformed one stops start-up with one line naming it.
"""

from __future__ import annotations

import argparse
import logging
import sys

DEFAULT_HOST = "127.0.0.1"
DEFAULT_PORT = 8000


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--host", default=DEFAULT_HOST, help=f"interface to listen on (default {DEFAULT_HOST}; "
                        "use 0.0.0.0 behind a proxy or in a container)")
    parser.add_argument("--port", type=int, default=DEFAULT_PORT, help=f"TCP port (default {DEFAULT_PORT})")
    parser.add_argument("--log-level", default="info", choices=["debug", "info", "warning", "error"])


def build(settings, jobs=None):
    """The ASGI app for these settings (also used by the demo and the benchmark)."""
    from bot.metrics import Metrics
    from bot.server import create_app
    from lab.github.factory import app_client_factory

    metrics = Metrics()
    return create_app(settings, app_client_factory(settings, metrics), metrics=metrics, jobs=jobs)


def _plug_jobs():
    """The job service from bot.jobs (its own ARBORIST_* settings); None when that package is absent."""
    try:
        from bot.jobs.service import JobService
        from bot.jobs.settings import JobSettings
    except ImportError:
        return None
    return JobService.open(JobSettings.from_environ())


def run(args: argparse.Namespace) -> int:
    from bot.settings import SettingsError, load_settings
    from bot.storage import StorageError

    logging.basicConfig(level=args.log_level.upper(), format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    try:
        settings = load_settings()
        jobs = _plug_jobs()
        app = build(settings, jobs=jobs)
    except (SettingsError, StorageError, ValueError) as exc:  # one line naming the setting or the file
        print(f"arborist serve: {exc}", file=sys.stderr)
        return 2
    import uvicorn

    from bot.http_guard import uvicorn_config

    logging.getLogger("arborist").info("serving on http://%s:%d (GitHub API %s, data in %s)", args.host, args.port,
                                       settings.github_url, settings.data_dir)
    uvicorn.Server(uvicorn_config(app, settings, args.host, args.port, args.log_level)).run()
    return 0
