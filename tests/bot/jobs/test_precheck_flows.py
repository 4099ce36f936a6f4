"""/precheck on the job machinery, against the in-memory GitHub: accepted, refused, cancelled, superseded, duplicated."""

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
AUTHORS_ALLOWED = "precheck:\n  allow_author: true\n  max_questions: 12\n"


def test_accepted_precheck_reacts_queues_a_job_with_its_own_check_run_and_the_status_comment(tmp_path):
    world = make_world(tmp_path, config="precheck:\n  max_questions: 12\n")
    event = comment_event("Before I review:\n/precheck knowledge/trees")
    on_comment_created(event, world.ctx)
    assert world.github.repo(REPO).reactions[event.payload["comment"]["id"]] == [(world.github.login, "eyes")]
    (job,) = world.store.jobs()
    assert (job.kind, job.state, job.sha, job.pr) == ("precheck", QUEUED, HEAD, PR)
    assert job.args["leaves"] == ["knowledge/trees"] and job.args["max_questions"] == 12
    (check,) = world.github.check_runs(REPO, name="arborist/precheck", head_sha=HEAD)
    (status,) = world.status_comments()
    assert check.id == job.check_run_id and status.id == job.status_comment_id
    assert "`/precheck` job #" in status.body and "position 1 in the queue" in status.body
    command = ci_command(job, python="python")
    assert command[:3] == ["python", "-m", "ci.precheck"]
    assert command[command.index("--pr") + 1] == str(PR) and command[command.index("--max-questions") + 1] == "12"
    assert command[command.index("--leaf") + 1] == "knowledge/trees" and world.replies() == []


def test_a_stranger_is_refused_with_the_reason_and_nothing_is_queued(tmp_path):
    world = make_world(tmp_path)
    on_comment_created(comment_event("/precheck", author=STRANGER), world.ctx)
    assert world.store.jobs() == [] and world.github.check_runs(REPO) == []
    (reply,) = world.replies()
    assert "Not run: @sam may not run `/precheck`" in reply.body and "write/maintain/admin" in reply.body


def test_the_prs_author_is_refused_unless_the_repository_allows_authors(tmp_path):
    world = make_world(tmp_path)
    on_comment_created(comment_event("/precheck", author=AUTHOR), world.ctx)
    assert world.store.jobs() == []
    assert "`precheck.allow_author` is off" in world.replies()[0].body


def test_the_prs_author_may_precheck_their_own_pr_when_allowed_but_a_stranger_still_may_not(tmp_path):
    world = make_world(tmp_path, config=AUTHORS_ALLOWED)
    on_comment_created(comment_event("/precheck", author=AUTHOR), world.ctx)
    on_comment_created(comment_event("/precheck", author=STRANGER), world.ctx)
    (job,) = world.store.jobs()
    assert (job.kind, job.requested_by) == ("precheck", AUTHOR)
    assert "or the pull request's author" in world.replies()[0].body


def test_cancel_stops_a_queued_precheck_and_its_check_run(tmp_path):
    world = make_world(tmp_path)
    on_comment_created(comment_event("/precheck"), world.ctx)
    on_comment_created(comment_event("/cancel"), world.ctx)
    (job,) = world.store.jobs()
    assert job.state == CANCELLED and job.reason == "cancelled by @maya"
    (check,) = world.github.check_runs(REPO, name="arborist/precheck")
    assert (check.status, check.conclusion) == ("completed", "cancelled")
    assert "Cancelled: cancelled by @maya" in world.status_comments()[0].body


def test_cancel_of_a_running_precheck_asks_its_worker_to_stop(tmp_path):
    world = make_world(tmp_path)
    on_comment_created(comment_event("/precheck"), world.ctx)
    world.store.claim("w1", 60)
    on_comment_created(comment_event("/cancel"), world.ctx)
    (job,) = world.store.jobs()
    assert job.state == RUNNING and job.cancel_requested


def test_a_push_supersedes_the_precheck_of_the_old_commit(tmp_path):
    world = make_world(tmp_path)
    on_comment_created(comment_event("/precheck"), world.ctx)
    world.github.set_pull_head(REPO, PR, NEW_HEAD)
    on_pr_synchronize(synchronize_event(NEW_HEAD), world.ctx)
    (job,) = world.store.jobs()
    assert job.state == CANCELLED and "superseded by a push of `bbbbbbbbbbbb`" in job.reason
    (check,) = world.github.check_runs(REPO, name="arborist/precheck", head_sha=HEAD)
    assert check.conclusion == "cancelled" and "superseded" in world.status_comments()[0].body
    on_comment_created(comment_event("/precheck"), world.ctx)  # asked again: the new commit is prechecked
    assert [(j.sha, j.state) for j in world.store.jobs()] == [(HEAD, CANCELLED), (NEW_HEAD, QUEUED)]


def test_a_duplicate_precheck_while_one_is_queued_links_to_it_and_queues_nothing(tmp_path):
    world = make_world(tmp_path)
    on_comment_created(comment_event("/precheck"), world.ctx)
    on_comment_created(comment_event("/precheck"), world.ctx)
    (job,) = world.store.jobs()
    (reply,) = world.replies()
    (status,) = world.status_comments()
    assert f"Already queued: job #{job.id}" in reply.body
    assert f"https://github.test/{REPO}/pull/{PR}#issuecomment-{status.id}" in reply.body
    assert len(world.github.check_runs(REPO, name="arborist/precheck")) == 1


def test_a_precheck_and_a_generate_on_one_pr_are_separate_jobs_with_separate_limits(tmp_path):
    world = make_world(tmp_path, config="precheck:\n  max_queued_per_pr: 1\n")
    on_comment_created(comment_event("/generate"), world.ctx)
    on_comment_created(comment_event("/precheck"), world.ctx)
    on_comment_created(comment_event("/precheck knowledge/other"), world.ctx)
    assert [j.kind for j in world.store.jobs()] == ["generate", "precheck"]
    assert "`precheck.max_queued_per_pr`" in world.replies()[0].body


def test_retry_runs_a_failed_precheck_again(tmp_path):
    world = make_world(tmp_path)
    on_comment_created(comment_event("/precheck"), world.ctx)
    job = world.store.claim("w1", 60)
    world.store.finish(job.id, "w1", "failed", result_title="the model could not answer")
    on_comment_created(comment_event("/retry"), world.ctx)
    (job,) = world.store.jobs()
    assert (job.kind, job.state) == ("precheck", QUEUED)
    assert len(world.github.check_runs(REPO, name="arborist/precheck")) == 2


def test_precheck_refuses_plainly_under_the_actions_executor(tmp_path):
    world = make_world(tmp_path, executor="actions")
    on_comment_created(comment_event("/precheck"), world.ctx)
    assert world.store.jobs() == [] and "GitHub Actions" in world.replies()[0].body
