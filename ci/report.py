"""How a `ci` step reports progress and its result: structured stdout lines, and GitHub when it owns the job.

The protocol, decided here and read by `bot.jobs.worker`:

* Progress: one stdout line `::arborist-progress::{"text": "...", "fraction": 0.4}` (fraction in
  0..1 or null). The local worker parses these lines, stores them in the job store and edits the
  status comment and check run itself, so the step needs no GitHub credentials of its own.
* Result: one stdout line `::arborist-result::{"conclusion": "success"|"failure", "title": "...",
  "summary": "<markdown>", "links": {"artefacts": "https://..."}}`. The worker keeps the last one;
  the exit code still decides success (a step that prints "success" and exits 1 has failed).

Under the `actions` executor there is no worker: `ARBORIST_REPORT=github`, and the step edits the
status comment itself through the GitHub seam (`StatusClient`: comments and checks only). Under a local worker the step may hold a
client too (for its own calls), but the worker stays the one writer of the status comment and check run. Every body is cut to GitHub's
65,536-character limit with a visible note. Tokens never appear in what is printed or posted.
"""

from __future__ import annotations

import sys
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, Protocol, TextIO

from ci.env import CiEnv, EnvError
from lab.github.protocol import CheckRunOutput, ChecksClient, CommentsClient
from schemas.masking import mask
from schemas.step_report import render_step_report
from schemas.steplines import (  # noqa: F401 - re-exported for ci steps
    CHECK_TEXT_LIMIT,
    COMMENT_LIMIT,
    PROGRESS_PREFIX,
    RESULT_PREFIX,
    Progress,
    Result,
    format_progress,
    format_result,
    parse_line,
    truncate,
)

PROGRESS_MIN_INTERVAL_S = 5.0  # GitHub edits are throttled to one per this many seconds (stdout is not)


class StatusClient(CommentsClient, ChecksClient, Protocol):
    """What a step needs of GitHub to report: the status comment and the check run, nothing else."""


@dataclass
class Reporter:
    """What a ci step holds: prints the protocol lines, and edits GitHub too when given a client."""

    repo: str
    job_id: int
    kind: str = "generate"
    pr: int | None = None
    status_comment_id: int | None = None
    check_run_id: int | None = None
    github: StatusClient | None = None
    stream: TextIO = field(default_factory=lambda: sys.stdout)
    clock: Callable[[], float] = time.monotonic
    edit_status: bool | None = None  # edit comment/check run directly; None: only if ARBORIST_REPORT=github
    _last_edit: float = field(default=-1e18, repr=False)

    def __post_init__(self) -> None:
        if self.edit_status is None:  # under a local worker the worker owns these edits (one writer)
            self.edit_status = CiEnv.from_environ().report == "github"
        if self.github is None:
            self.edit_status = False

    def progress(self, text: str, fraction: float | None = None) -> None:
        """Say how far the step is; cheap to call often (GitHub edits are throttled)."""
        progress = Progress(mask(text), fraction)  # a teacher's echoed key never reaches a log or GitHub
        print(format_progress(progress), file=self.stream, flush=True)
        now = self.clock()
        if self.edit_status and now - self._last_edit >= PROGRESS_MIN_INTERVAL_S:
            self._last_edit = now
            self._edit(state="running", progress=progress)

    def result(self, conclusion: str, title: str, summary: str = "", links: dict[str, str] | None = None) -> Result:
        """Report the final outcome once; the caller then exits 0 (success) or non-zero (failure)."""
        result = Result(conclusion, mask(title), truncate(mask(summary)), dict(links or {}))
        print(format_result(result), file=self.stream, flush=True)
        if self.edit_status:
            self._edit(state="succeeded" if conclusion == "success" else "failed", result=result)
        return result

    def fail(self, title: str, summary: str) -> int:
        """Report a failure and return the exit code to use (1): failing loudly, never pretending."""
        print(mask(f"error: {title}: {summary}"), file=sys.stderr, flush=True)
        self.result("failure", title, summary)
        return 1

    def _edit(self, state: str, progress: Progress | None = None, result: Result | None = None) -> None:
        assert self.github is not None
        body = render_step_report(self.kind, self.job_id, state, progress=progress, result=result)
        if self.status_comment_id:
            self.github.edit_comment(self.repo, self.status_comment_id, truncate(body))
        if self.check_run_id:
            title = result.title if result else (progress.text if progress else state)
            output = CheckRunOutput(title=title[:200], summary=truncate(body, CHECK_TEXT_LIMIT))
            conclusion: Any = None if result is None else result.conclusion
            self.github.update_check_run(self.repo, self.check_run_id,
                                         status="completed" if result else "in_progress",
                                         output=output, conclusion=conclusion)


def start_step(make_reporter: Callable[[CiEnv], Reporter]) -> tuple[CiEnv, Reporter] | None:
    """Read the step's environment and build its reporter; on a bad setting print one line naming it
    and return None (the caller exits with a usage error). Reports "starting" once it can."""
    try:
        env = CiEnv.from_environ()
        reporter = make_reporter(env)
    except EnvError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return None
    reporter.progress("starting", 0.0)
    return env, reporter
