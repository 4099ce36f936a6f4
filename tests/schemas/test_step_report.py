"""schemas.step_report: the status a ci step writes on an Actions runner reads as the bot writes it for the same job."""

from __future__ import annotations

import pytest

from bot.jobs.model import Job
from bot.jobs.render import render_status_comment
from schemas.step_report import CUT_NOTE, FAILED, RUNNING, STATUS_MARKER, SUCCEEDED, render_step_report
from schemas.steplines import COMMENT_LIMIT, Progress, Result


@pytest.mark.parametrize(("state", "progress", "result"), [
    (RUNNING, Progress("generating knowledge.mars (1/2)", 0.5), None),
    (SUCCEEDED, None, Result("success", "12 synthetic rows", "| leaf | kept |", {"artefacts": "https://hub.test/d"})),
    (FAILED, None, Result("failure", "teacher crashed", "the teacher exited")),
])
def test_the_steps_comment_is_the_bots_comment_for_the_same_job_without_the_commit(state, progress, result):
    job = Job(id=4, kind="generate", repo="acme/taxonomy", sha="", state=state,
              progress=progress.text if progress else "", fraction=progress.fraction if progress else None,
              result_title=result.title if result else "", result_md=result.summary if result else "",
              artifacts_url=(result.links.get("artefacts", "") if result else ""))
    step = render_step_report("generate", 4, state, progress=progress, result=result)
    assert step == render_status_comment(job).replace(" · commit ``", "")
    assert step.startswith(STATUS_MARKER) and "`/generate` job #4" in step and "commit" not in step


def test_a_huge_step_report_is_cut_to_githubs_limit_with_a_visible_note():
    body = render_step_report("retrain", 9, SUCCEEDED, result=Result("success", "released", "x" * 200_000))
    assert len(body) == COMMENT_LIMIT and body.endswith(CUT_NOTE)
