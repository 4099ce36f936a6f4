"""`python -m ci.generate`: synthetic data for the changed leaves of one PR, at one commit, as data.

The argument parsing (`build_parser`, `parse_args`) and the reporting (`ci.report.Reporter`) are the
stable contract the job executors rely on. The generation itself belongs to the generate work: until
`run_generation` is filled in, the step reports a clear failure and exits 1; it never pretends.
"""

from __future__ import annotations

import argparse
import sys

from ci.env import CiEnv, EnvError, github_client
from ci.report import Reporter

EXIT_FAILED = 1
EXIT_USAGE = 2
MAX_SAMPLES = 1000  # a hard ceiling whatever the repository config says


def _positive(text: str) -> int:
    value = int(text)
    if not 1 <= value <= MAX_SAMPLES:
        raise argparse.ArgumentTypeError(f"must be between 1 and {MAX_SAMPLES}")
    return value


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="python -m ci.generate", description=__doc__.splitlines()[0])
    parser.add_argument("--repo", required=True, help="the taxonomy repository, owner/name")
    parser.add_argument("--pr", type=int, required=True, help="the pull request number")
    parser.add_argument("--sha", required=True, help="the PR head commit to read (full SHA)")
    parser.add_argument("--job-id", type=int, required=True, help="the Arborist job id")
    parser.add_argument("--status-comment-id", type=int, default=None, help="the PR's status comment")
    parser.add_argument("--check-run-id", type=int, default=None, help="the job's check run")
    parser.add_argument("--samples", type=_positive, default=None, help="samples per leaf (default: repo config)")
    parser.add_argument("--leaf", action="append", default=[], metavar="PATH",
                        help="only this leaf (repeatable; default: every changed leaf)")
    return parser


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    return build_parser().parse_args(argv)


def make_reporter(args: argparse.Namespace, env: CiEnv) -> Reporter:
    return Reporter(repo=args.repo, job_id=args.job_id, kind="generate", pr=args.pr,
                    status_comment_id=args.status_comment_id, check_run_id=args.check_run_id,
                    github=github_client(env))


def run_generation(args: argparse.Namespace, env: CiEnv, reporter: Reporter) -> int:
    """Check out `args.sha` as data, generate for the leaves, report. Not built yet: fails loudly."""
    return reporter.fail("generation is not available yet",
                         "This Arborist build has no synthetic data generation step: `ci.generate` was "
                         f"asked for {args.repo}#{args.pr} at `{args.sha[:12]}` and did nothing.")


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    try:
        env = CiEnv.from_environ()
        reporter = make_reporter(args, env)
    except EnvError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return EXIT_USAGE
    reporter.progress("starting", 0.0)
    return run_generation(args, env, reporter)


if __name__ == "__main__":
    sys.exit(main())
