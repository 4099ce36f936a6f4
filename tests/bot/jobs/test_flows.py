"""Command flows against the in-memory GitHub: reaction, one status comment, one check run, cancel, retry, supersede."""

from __future__ import annotations

from bot.handlers.comments import on_comment_created, on_pr_closed, on_pr_synchronize
from bot.handlers.push import on_push
from bot.jobs.model import CANCELLED, FAILED, QUEUED, RUNNING
from tests.bot.jobs import command_flows as flows
from tests.bot.jobs.world import (
    HEAD,
    NEW_HEAD,
    PR,
    REPO,
    comment_event,
    make_world,
    push_event,
    synchronize_event,
)


def test_accepted_generate_reacts_queues_one_job_one_status_comment_one_check_run(tmp_path):
    world = make_world(tmp_path)
    event = comment_event("Thanks!\n/generate --samples 20 knowledge/science/astronomy")
    on_comment_created(event, world.ctx)
    comment_id = event.payload["comment"]["id"]
    assert world.github.repo(REPO).reactions[comment_id] == [(world.github.login, "eyes")]
    (job,) = world.store.jobs()
    assert (job.state, job.sha, job.pr, job.requested_by) == (QUEUED, HEAD, PR, "maya")
    assert job.args["samples"] == 20 and job.args["leaves"] == ["knowledge/science/astronomy"]
    (status,) = world.status_comments()
    assert "queued" in status.body and "position 1 in the queue" in status.body
    (check,) = world.github.check_runs(REPO, name="arborist/generate", head_sha=HEAD)
    assert check.status == "queued" and job.check_run_id == check.id and job.status_comment_id == status.id


def test_samples_default_to_the_repository_config(tmp_path):
    world = make_world(tmp_path, config="generate:\n  samples: 12\n")
    on_comment_created(comment_event("/generate"), world.ctx)
    assert world.store.jobs()[0].args["samples"] == 12


def test_the_same_comment_delivered_twice_starts_one_job(tmp_path):
    world = make_world(tmp_path)
    event = comment_event("/generate")
    on_comment_created(event, world.ctx)
    on_comment_created(event, world.ctx)  # a redelivery: same comment id
    assert len(world.store.jobs()) == 1
    assert world.github.count("create_check_run") == 1
    assert len(world.status_comments()) == 1


def test_a_second_command_reuses_the_status_comment(tmp_path):
    world = make_world(tmp_path)
    on_comment_created(comment_event("/generate"), world.ctx)
    on_comment_created(comment_event("/cancel"), world.ctx)
    on_comment_created(comment_event("/generate --samples 3"), world.ctx)
    assert [j.state for j in world.store.jobs()] == [CANCELLED, QUEUED]
    (status,) = world.status_comments()
    assert "Earlier jobs on this PR" in status.body and "cancelled by @maya" in status.body


def test_cancel_of_a_queued_job_completes_its_check_run_as_cancelled(tmp_path):
    flows.cancel_queued(make_world(tmp_path), "generate")


def test_cancel_of_a_running_job_asks_its_worker_to_stop(tmp_path):
    world = make_world(tmp_path)
    flows.cancel_running(world, "generate")
    assert "Stopping: cancelled by @maya" in world.status_comments()[0].body


def test_cancel_with_nothing_to_cancel_says_so(tmp_path):
    world = make_world(tmp_path)
    on_comment_created(comment_event("/cancel"), world.ctx)
    assert "Nothing to cancel" in world.replies()[0].body


def test_retry_requeues_the_failed_job_with_a_fresh_check_run(tmp_path):
    world = make_world(tmp_path)
    on_comment_created(comment_event("/generate"), world.ctx)
    job = world.store.claim("w1", 60)
    world.store.finish(job.id, "w1", FAILED, result_title="teacher crashed")
    on_comment_created(comment_event("/retry"), world.ctx)
    (job,) = world.store.jobs()
    assert job.state == QUEUED and job.attempts == 0
    runs = world.github.check_runs(REPO, name="arborist/generate")
    assert len(runs) == 2 and runs[-1].id == job.check_run_id and runs[-1].status == "queued"
    assert len(world.status_comments()) == 1


def test_retry_without_a_failed_job_says_so(tmp_path):
    world = make_world(tmp_path)
    on_comment_created(comment_event("/generate"), world.ctx)
    on_comment_created(comment_event("/retry"), world.ctx)
    assert "Nothing to retry" in world.replies()[0].body
    assert len(world.store.jobs()) == 1


def test_a_push_to_the_pr_cancels_jobs_for_the_old_sha_and_says_so(tmp_path):
    world = make_world(tmp_path)
    on_comment_created(comment_event("/generate"), world.ctx)
    world.github.set_pull_head(REPO, PR, NEW_HEAD)
    on_pr_synchronize(synchronize_event(NEW_HEAD), world.ctx)
    (job,) = world.store.jobs()
    assert job.state == CANCELLED and "superseded by a push of `bbbbbbbbbbbb`" in job.reason
    assert "superseded" in world.status_comments()[0].body
    (check,) = world.github.check_runs(REPO, head_sha=HEAD)
    assert check.conclusion == "cancelled"


def test_a_retry_after_a_push_refuses_to_rerun_the_old_commit(tmp_path):
    world = make_world(tmp_path)
    on_comment_created(comment_event("/generate"), world.ctx)
    world.github.set_pull_head(REPO, PR, NEW_HEAD)
    on_pr_synchronize(synchronize_event(NEW_HEAD), world.ctx)
    on_comment_created(comment_event("/retry"), world.ctx)
    assert world.store.jobs()[0].state == CANCELLED
    assert "Nothing to retry" in world.replies()[0].body


def test_closing_the_pr_stops_its_jobs(tmp_path):
    world = make_world(tmp_path)
    on_comment_created(comment_event("/generate"), world.ctx)
    on_pr_closed(type(synchronize_event())("pull_request", "closed", "d", {
        "action": "closed", "number": PR, "pull_request": {"number": PR, "merged": True},
        "repository": {"full_name": REPO}}, repo=REPO), world.ctx)
    assert world.store.jobs()[0].reason == "the pull request was merged"


def test_pushes_to_the_default_branch_coalesce_into_one_retrain_for_the_newest_sha(tmp_path):
    world = make_world(tmp_path)
    on_push(push_event("1" * 40, message="Merge pull request #7 from a/b"), world.ctx)
    on_push(push_event("2" * 40, message="Add a leaf (#9)"), world.ctx)
    on_push(push_event("3" * 40, ref="refs/heads/feature"), world.ctx)  # not the default branch
    (job,) = world.store.jobs()
    assert (job.kind, job.sha, job.state) == ("retrain", "2" * 40, QUEUED)
    assert job.args["merged"] == [7, 9]
    old, new = world.github.check_runs(REPO, name="arborist/retrain")
    assert (old.head_sha, old.conclusion) == ("1" * 40, "cancelled")
    assert (new.head_sha, new.status, new.id) == ("2" * 40, "queued", job.check_run_id)


def test_a_push_while_a_retrain_runs_queues_exactly_one_more(tmp_path):
    world = make_world(tmp_path)
    on_push(push_event("1" * 40), world.ctx)
    world.store.claim("w1", 60)
    on_push(push_event("2" * 40), world.ctx)
    on_push(push_event("3" * 40), world.ctx)
    assert [(j.sha[0], j.state) for j in world.store.jobs()] == [("1", RUNNING), ("3", QUEUED)]


def test_a_branch_deletion_queues_nothing(tmp_path):
    world = make_world(tmp_path)
    event = push_event("0" * 40)
    on_push(event, world.ctx)
    assert world.store.jobs() == []
