"""The actions executor: workflow_dispatch with the job's inputs, then workflow_job / workflow_run events."""

from __future__ import annotations

import json

from bot.context import Event
from bot.handlers.comments import on_comment_created
from bot.handlers.push import on_push
from bot.handlers.workflow import on_workflow_job, on_workflow_run
from bot.jobs.model import CANCELLED, FAILED, QUEUED, RUNNING, SUCCEEDED
from schemas.step_report import render_step_report
from schemas.steplines import Result
from tests.bot.jobs.world import HEAD, INSTALLATION, PR, REPO, comment_event, make_world, push_event


def wf_job_event(job_id: int, action: str = "in_progress", repo: str = REPO, kind: str = "generate",
                 sha: str = HEAD) -> Event:
    payload = {"action": action, "workflow_job": {"name": f"arborist {kind} job {job_id} at {sha}", "run_id": 9001,
                                                  "html_url": "https://github.com/acme/taxonomy/actions/runs/9001/job/1"},
               "repository": {"full_name": repo}, "installation": {"id": INSTALLATION}}
    return Event.from_delivery("workflow_job", "d-job", payload)


def wf_run_event(job_id: int, conclusion: str = "success", repo: str = REPO, kind: str = "generate",
                 sha: str = HEAD) -> Event:
    payload = {"action": "completed", "workflow_run": {
        "id": 9001, "display_title": f"arborist {kind} job {job_id} at {sha}", "status": "completed", "conclusion": conclusion,
        "html_url": "https://github.com/acme/taxonomy/actions/runs/9001"},
        "repository": {"full_name": repo}, "installation": {"id": INSTALLATION}}
    return Event.from_delivery("workflow_run", "d-run", payload)


def test_generate_is_dispatched_to_the_gpu_workflow_with_the_job_inputs(tmp_path):
    world = make_world(tmp_path, executor="actions")
    on_comment_created(comment_event("/generate --samples 5 knowledge/a knowledge/b"), world.ctx)
    (job,) = world.store.jobs()
    (dispatch,) = world.github.repo(REPO).dispatches
    assert (dispatch.workflow, dispatch.ref) == ("arborist-generate.yml", "main")  # the base branch, not the PR
    assert dispatch.inputs == {"job_id": str(job.id), "sha": HEAD, "pr": str(PR), "samples": "5",
                               "status_comment_id": str(job.status_comment_id), "leaves": "knowledge/a knowledge/b"}
    assert all(isinstance(v, str) for v in dispatch.inputs.values())


def test_a_run_walks_the_job_from_queued_to_done_and_keeps_the_steps_report(tmp_path):
    world = make_world(tmp_path, executor="actions")
    on_comment_created(comment_event("/generate"), world.ctx)
    (job,) = world.store.jobs()
    on_workflow_job(wf_job_event(job.id), world.ctx)
    running = world.store.get(job.id)
    assert running.state == RUNNING and running.run_id == 9001 and "actions/runs/9001" in running.log_url
    assert world.github.check_runs(REPO)[0].status == "in_progress"
    # the step on the runner writes its report into the status comment (ci.report with a GitHub client)
    body = render_step_report("generate", job.id, "succeeded", result=Result("success", "ok", "| leaf | kept |"))
    world.github.edit_comment(REPO, job.status_comment_id, body)
    on_workflow_run(wf_run_event(job.id), world.ctx)
    done = world.store.get(job.id)
    assert done.state == SUCCEEDED and done.result_md == "| leaf | kept |"
    (status,) = world.status_comments()
    assert "| leaf | kept |" in status.body and "[logs](https://github.com/acme/taxonomy/actions/runs/9001)" in status.body
    assert world.github.check_runs(REPO)[0].conclusion == "success"
    on_workflow_run(wf_run_event(job.id, "failure"), world.ctx)  # a redelivered or late event changes nothing
    assert world.store.get(job.id).state == SUCCEEDED


def test_a_failed_run_fails_the_job(tmp_path):
    world = make_world(tmp_path, executor="actions")
    on_comment_created(comment_event("/generate"), world.ctx)
    (job,) = world.store.jobs()
    on_workflow_run(wf_run_event(job.id, "failure"), world.ctx)
    assert world.store.get(job.id).state == FAILED
    assert world.github.check_runs(REPO)[0].conclusion == "failure"


def test_events_from_another_repository_or_workflow_are_ignored(tmp_path):
    world = make_world(tmp_path, executor="actions")
    on_comment_created(comment_event("/generate"), world.ctx)
    (job,) = world.store.jobs()
    on_workflow_run(wf_run_event(job.id, repo="mallory/fork"), world.ctx)
    on_workflow_run(wf_run_event(job.id, kind="retrain"), world.ctx)
    on_workflow_job(wf_job_event(job.id, action="queued"), world.ctx)
    assert world.store.get(job.id).state == QUEUED


def test_the_real_github_payload_of_another_workflow_is_ignored(tmp_path, shared_fixtures):
    world = make_world(tmp_path, executor="actions")
    on_comment_created(comment_event("/generate"), world.ctx)
    base = shared_fixtures / "github-webhooks" / "payload-examples" / "api.github.com"
    for name, handler in (("workflow_run/completed.payload.json", on_workflow_run),
                          ("workflow_job/in_progress.payload.json", on_workflow_job)):
        payload = json.loads((base / name).read_text())
        handler(Event.from_delivery(name.split("/")[0], "d", payload), world.ctx)
    assert world.store.jobs()[0].state == QUEUED


def test_cancel_under_actions_ends_the_job_and_ignores_the_late_run(tmp_path):
    world = make_world(tmp_path, executor="actions")
    on_comment_created(comment_event("/generate"), world.ctx)
    (job,) = world.store.jobs()
    on_workflow_job(wf_job_event(job.id), world.ctx)
    on_comment_created(comment_event("/cancel"), world.ctx)
    assert world.store.get(job.id).state == CANCELLED
    assert world.github.repo(REPO).cancelled_runs == [world.store.get(job.id).run_id]  # stopped on GitHub too
    on_workflow_run(wf_run_event(job.id, "success"), world.ctx)
    assert world.store.get(job.id).state == CANCELLED


def test_a_queued_actions_job_is_cancelled_without_asking_github(tmp_path):
    world = make_world(tmp_path, executor="actions")
    on_comment_created(comment_event("/generate"), world.ctx)
    (job,) = world.store.jobs()
    on_comment_created(comment_event("/cancel"), world.ctx)
    assert world.store.get(job.id).state == CANCELLED
    assert world.github.repo(REPO).cancelled_runs == []


def test_retrain_is_dispatched_on_the_default_branch(tmp_path):
    world = make_world(tmp_path, executor="actions")
    on_push(push_event("e" * 40), world.ctx)
    (dispatch,) = world.github.repo(REPO).dispatches
    (job,) = world.store.jobs()
    assert (dispatch.workflow, dispatch.ref, dispatch.inputs) == ("arborist-retrain.yml", "main",
                                                                  {"job_id": str(job.id), "sha": "e" * 40,
                                                                   "approved": ""})


def test_coalesced_retrain_dispatches_the_newest_sha_and_ignores_the_older_run(tmp_path):
    world = make_world(tmp_path, executor="actions")
    on_push(push_event("1" * 40), world.ctx)
    on_push(push_event("2" * 40), world.ctx)
    (job,) = world.store.jobs()
    assert [d.inputs["sha"] for d in world.github.repo(REPO).dispatches] == ["1" * 40, "2" * 40]
    assert {d.inputs["job_id"] for d in world.github.repo(REPO).dispatches} == {str(job.id)}
    # GitHub's concurrency group cancels the older pending run: that event must not end the job
    on_workflow_run(wf_run_event(job.id, "cancelled", kind="retrain", sha="1" * 40), world.ctx)
    assert world.store.get(job.id).state == QUEUED
    on_workflow_job(wf_job_event(job.id, kind="retrain", sha="2" * 40), world.ctx)
    on_workflow_run(wf_run_event(job.id, "success", kind="retrain", sha="2" * 40), world.ctx)
    assert world.store.get(job.id).state == SUCCEEDED
    (current,) = world.github.check_runs(REPO, name="arborist/retrain", head_sha="2" * 40)
    assert current.conclusion == "success"
