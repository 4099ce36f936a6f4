"""/preview on the job machinery, against the in-memory GitHub: accepted, refused, cancelled, superseded, duplicated."""

from __future__ import annotations

from bot.handlers.comments import on_comment_created, on_pr_synchronize
from bot.jobs.model import CANCELLED, QUEUED, RUNNING
from bot.jobs.worker import ci_command
from tests.bot.jobs.world import (
    HEAD,
    NEW_HEAD,
    PR,
    REPO,
    STRANGER,
    comment_event,
    make_world,
    synchronize_event,
)

AUTHOR = "contributor"  # the PR's author in tests.bot.jobs.world, with read permission only


def test_accepted_preview_reacts_queues_a_job_with_its_own_check_run_and_the_status_comment(tmp_path):
    world = make_world(tmp_path)
    event = comment_event("Looks plausible; let's see what it teaches.\n/preview knowledge/trees")
    on_comment_created(event, world.ctx)
    assert world.github.repo(REPO).reactions[event.payload["comment"]["id"]] == [(world.github.login, "eyes")]
    (job,) = world.store.jobs()
    assert (job.kind, job.state, job.sha, job.pr) == ("preview", QUEUED, HEAD, PR)
    assert job.args["leaves"] == ["knowledge/trees"]
    (check,) = world.github.check_runs(REPO, name="arborist/preview", head_sha=HEAD)
    (status,) = world.status_comments()
    assert check.id == job.check_run_id and status.id == job.status_comment_id
    assert "`/preview` job #" in status.body and "position 1 in the queue" in status.body
    command = ci_command(job, python="python")
    assert command[:3] == ["python", "-m", "ci.preview"]
    assert command[command.index("--pr") + 1] == str(PR) and command[command.index("--sha") + 1] == HEAD
    assert command[command.index("--leaf") + 1] == "knowledge/trees" and world.replies() == []


def test_a_stranger_is_refused_with_the_reason_and_nothing_is_queued(tmp_path):
    world = make_world(tmp_path)
    on_comment_created(comment_event("/preview", author=STRANGER), world.ctx)
    assert world.store.jobs() == [] and world.github.check_runs(REPO) == []
    (reply,) = world.replies()
    assert "Not run: @sam may not run `/preview`" in reply.body and "write/maintain/admin" in reply.body


def test_the_prs_author_may_not_preview_even_where_authors_may_precheck(tmp_path):
    world = make_world(tmp_path, config="precheck:\n  allow_author: true\n")
    on_comment_created(comment_event("/preview", author=AUTHOR), world.ctx)
    assert world.store.jobs() == []
    assert "may not run `/preview`" in world.replies()[0].body


def test_cancel_stops_a_queued_preview_and_its_check_run(tmp_path):
    world = make_world(tmp_path)
    on_comment_created(comment_event("/preview"), world.ctx)
    on_comment_created(comment_event("/cancel"), world.ctx)
    (job,) = world.store.jobs()
    assert job.state == CANCELLED and job.reason == "cancelled by @maya"
    (check,) = world.github.check_runs(REPO, name="arborist/preview")
    assert (check.status, check.conclusion) == ("completed", "cancelled")
    assert "Cancelled: cancelled by @maya" in world.status_comments()[0].body


def test_cancel_of_a_running_preview_asks_its_worker_to_stop(tmp_path):
    world = make_world(tmp_path)
    on_comment_created(comment_event("/preview"), world.ctx)
    world.store.claim("w1", 60)
    on_comment_created(comment_event("/cancel"), world.ctx)
    (job,) = world.store.jobs()
    assert job.state == RUNNING and job.cancel_requested


def test_a_push_supersedes_the_preview_of_the_old_commit(tmp_path):
    world = make_world(tmp_path)
    on_comment_created(comment_event("/preview"), world.ctx)
    world.github.set_pull_head(REPO, PR, NEW_HEAD)
    on_pr_synchronize(synchronize_event(NEW_HEAD), world.ctx)
    (job,) = world.store.jobs()
    assert job.state == CANCELLED and "superseded by a push of `bbbbbbbbbbbb`" in job.reason
    (check,) = world.github.check_runs(REPO, name="arborist/preview", head_sha=HEAD)
    assert check.conclusion == "cancelled" and "superseded" in world.status_comments()[0].body
    on_comment_created(comment_event("/preview"), world.ctx)  # asked again: the new commit is previewed
    assert [(j.sha, j.state) for j in world.store.jobs()] == [(HEAD, CANCELLED), (NEW_HEAD, QUEUED)]


def test_a_duplicate_preview_while_one_is_queued_answers_already_queued_and_queues_nothing(tmp_path):
    world = make_world(tmp_path)
    on_comment_created(comment_event("/preview"), world.ctx)
    on_comment_created(comment_event("/preview"), world.ctx)
    (job,) = world.store.jobs()
    (reply,) = world.replies()
    (status,) = world.status_comments()
    assert f"Already queued: job #{job.id}" in reply.body
    assert f"https://github.test/{REPO}/pull/{PR}#issuecomment-{status.id}" in reply.body
    assert len(world.github.check_runs(REPO, name="arborist/preview")) == 1


def test_a_second_different_preview_on_one_pr_is_refused_by_the_per_pr_limit(tmp_path):
    world = make_world(tmp_path)  # preview.max_queued_per_pr defaults to 1: a preview is expensive
    on_comment_created(comment_event("/preview"), world.ctx)
    on_comment_created(comment_event("/preview knowledge/other"), world.ctx)
    on_comment_created(comment_event("/precheck"), world.ctx)  # another kind keeps its own limit
    assert [j.kind for j in world.store.jobs()] == ["preview", "precheck"]
    assert "`preview.max_queued_per_pr` in `.github/arborist.yml`" in world.replies()[0].body


def test_retry_runs_a_failed_preview_again(tmp_path):
    world = make_world(tmp_path)
    on_comment_created(comment_event("/preview"), world.ctx)
    job = world.store.claim("w1", 60)
    world.store.finish(job.id, "w1", "failed", result_title="training failed")
    on_comment_created(comment_event("/retry"), world.ctx)
    (job,) = world.store.jobs()
    assert (job.kind, job.state) == ("preview", QUEUED)
    assert len(world.github.check_runs(REPO, name="arborist/preview")) == 2


def test_preview_refuses_plainly_under_the_actions_executor(tmp_path):
    world = make_world(tmp_path, executor="actions")
    on_comment_created(comment_event("/preview"), world.ctx)
    assert world.store.jobs() == [] and "GitHub Actions" in world.replies()[0].body
