"""`python -m ci.retrain`: retrain the model on the whole taxonomy at one default-branch commit.

The argument parsing (`build_parser`, `parse_args`) and the reporting (`ci.report.Reporter`) are the
stable contract the job executors rely on. Training belongs to the retrain work: until `run_retrain`
is filled in, the step reports a clear failure and exits 1; it never pretends.
"""

from __future__ import annotations

import argparse
import sys

from ci.env import CiEnv, EnvError, github_client
from ci.report import Reporter

EXIT_FAILED = 1
EXIT_USAGE = 2


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="python -m ci.retrain", description=__doc__.splitlines()[0])
    parser.add_argument("--repo", required=True, help="the taxonomy repository, owner/name")
    parser.add_argument("--sha", required=True, help="the default-branch commit to train on (full SHA)")
    parser.add_argument("--job-id", type=int, required=True, help="the Arborist job id")
    parser.add_argument("--check-run-id", type=int, default=None, help="the job's check run")
    return parser


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    return build_parser().parse_args(argv)


def make_reporter(args: argparse.Namespace, env: CiEnv) -> Reporter:
    return Reporter(repo=args.repo, job_id=args.job_id, kind="retrain", check_run_id=args.check_run_id,
                    github=github_client(env))


def run_retrain(args: argparse.Namespace, env: CiEnv, reporter: Reporter) -> int:
    """Generate, mix, train, evaluate, publish. Not built yet: fails loudly."""
    return reporter.fail("retraining is not available yet",
                         "This Arborist build has no training step: `ci.retrain` was asked for "
                         f"{args.repo} at `{args.sha[:12]}` and did nothing.")


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    try:
        env = CiEnv.from_environ()
        reporter = make_reporter(args, env)
    except EnvError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return EXIT_USAGE
    reporter.progress("starting", 0.0)
    return run_retrain(args, env, reporter)


if __name__ == "__main__":
    sys.exit(main())
