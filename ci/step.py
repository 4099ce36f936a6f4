"""Running a `ci` step one way: its reporter from the arguments, a usage exit on a bad setting, a crash reported.

Every step (`ci.generate`, `ci.precheck`, `ci.preview`, `ci.retrain`) starts the same: read the
environment, build the reporter for its job (the PR's status comment and the check run when it has
them), say "starting"; a bad setting is one line and exit 2. The long steps also turn an unexpected
exception into a reported failure, so the job never ends without a result.
"""

from __future__ import annotations

import argparse
from collections.abc import Callable

from ci.env import CiEnv, github_client
from ci.report import Reporter, start_step

EXIT_FAILED = 1
EXIT_USAGE = 2

StepBody = Callable[[argparse.Namespace, CiEnv, Reporter], int]


def step_reporter(kind: str, args: argparse.Namespace, env: CiEnv) -> Reporter:
    """The reporter of a `kind` job; `--pr` and `--status-comment-id` are optional (a retrain has neither)."""
    return Reporter(repo=args.repo, job_id=args.job_id, kind=kind, pr=getattr(args, "pr", None),
                    status_comment_id=getattr(args, "status_comment_id", None), check_run_id=args.check_run_id,
                    github=github_client(env))


def run_step(kind: str, args: argparse.Namespace, body: StepBody, crash_title: str | None = None) -> int:
    """Start the step and run `body`; with `crash_title`, an exception becomes a reported failure (exit 1)."""
    started = start_step(lambda env: step_reporter(kind, args, env))
    if started is None:
        return EXIT_USAGE
    env, reporter = started
    if crash_title is None:
        return body(args, env, reporter)
    try:
        return body(args, env, reporter)
    except Exception as exc:  # noqa: BLE001 - report what broke instead of dying without a result
        return reporter.fail(crash_title, f"{type(exc).__name__}: {exc}")
