"""Rendering of the status comment and check run: pure functions of a job."""

from __future__ import annotations

from bot.jobs.model import CANCELLED, FAILED, QUEUED, RUNNING, SUCCEEDED, Job
from bot.jobs.render import check_fields, render_check_output, render_status_comment
from schemas.step_report import STATUS_MARKER, progress_bar
from schemas.steplines import COMMENT_LIMIT


def job(state: str, **kw) -> Job:
    return Job(**{"id": 4, "kind": "generate", "repo": "o/r", "sha": "abcdef1234567890" * 2 + "abcdefgh",
                  "state": state, "pr": 7, "requested_by": "maya", **kw})


def test_each_state_has_its_line_and_check_fields():
    assert "position 3 in the queue" in render_status_comment(job(QUEUED), queue_position=3)
    running = render_status_comment(job(RUNNING, attempts=2, progress="generating", fraction=0.5))
    assert "attempt 2 of 3): generating" in running and "50%" in running
    assert "Cancelled: superseded" in render_status_comment(job(CANCELLED, reason="superseded"))
    assert "/retry" in render_status_comment(job(FAILED, result_title="teacher crashed"))
    assert check_fields(job(QUEUED)) == {"status": "queued", "conclusion": None}
    assert check_fields(job(RUNNING)) == {"status": "in_progress", "conclusion": None}
    assert check_fields(job(SUCCEEDED)) == {"status": "completed", "conclusion": "success"}
    assert check_fields(job(CANCELLED))["conclusion"] == "cancelled"


def test_links_render_as_links_and_local_logs_as_paths():
    body = render_status_comment(job(SUCCEEDED, log_url="https://ci.test/log", artifacts_url="https://hub.test/d"))
    assert "[logs](https://ci.test/log) · [artefacts](https://hub.test/d)" in body
    assert "logs: `/data/logs/job-4.log`" in render_status_comment(job(FAILED, log_url="/data/logs/job-4.log"))


def test_a_huge_report_is_cut_to_githubs_limits():
    body = render_status_comment(job(SUCCEEDED, result_md="x" * 200_000))
    assert body.startswith(STATUS_MARKER) and len(body) <= COMMENT_LIMIT and "cut here" in body
    assert len(render_check_output(job(SUCCEEDED, result_md="x" * 200_000)).summary) <= 65_535


def test_earlier_jobs_are_listed_newest_first():
    history = [job(CANCELLED, id=1, reason="superseded"), job(FAILED, id=2), job(QUEUED, id=4)]
    body = render_status_comment(job(QUEUED), history=history)
    assert body.index("job #2") < body.index("job #1") and "(superseded)" in body


def test_progress_bar_is_clamped():
    assert progress_bar(None) == ""
    assert progress_bar(2.0).endswith(" 100%") and progress_bar(-1).endswith(" 0%")
    assert progress_bar(0.25).count("█") == 5
