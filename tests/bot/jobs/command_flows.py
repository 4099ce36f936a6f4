"""The flows every PR job command shares (/precheck, /preview, /generate), asserted once for any `kind`.

Each test module drives its own command through these and adds what only that command does; the
assertions live here so that a change to a shared flow is checked the same way for every command.
"""

from __future__ import annotations

from bot.handlers.comments import on_comment_created, on_pr_synchronize
from bot.jobs.model import CANCELLED, QUEUED, RUNNING, Job
from bot.jobs.worker import ci_command
from tests.bot.jobs.world import HEAD, NEW_HEAD, PR, REPO, STRANGER, World, comment_event, synchronize_event


def accepted(world: World, kind: str, comment: str) -> tuple[Job, list[str]]:
    """A maintainer's `comment` queues one `kind` job with a reaction, its check run and the status comment;
    returns the job and the worker's command line for it."""
    event = comment_event(comment)
    on_comment_created(event, world.ctx)
    assert world.github.repo(REPO).reactions[event.payload["comment"]["id"]] == [(world.github.login, "eyes")]
    (job,) = world.store.jobs()
    assert (job.kind, job.state, job.sha, job.pr) == (kind, QUEUED, HEAD, PR)
    assert job.args["leaves"] == ["knowledge/trees"]
    (check,) = world.github.check_runs(REPO, name=f"arborist/{kind}", head_sha=HEAD)
    (status,) = world.status_comments()
    assert check.id == job.check_run_id and status.id == job.status_comment_id
    assert f"`/{kind}` job #" in status.body and "position 1 in the queue" in status.body
    command = ci_command(job, python="python")
    assert command[:3] == ["python", "-m", f"ci.{kind}"]
    assert command[command.index("--pr") + 1] == str(PR)
    assert command[command.index("--leaf") + 1] == "knowledge/trees" and world.replies() == []
    return job, command


def stranger_refused(world: World, kind: str) -> None:
    on_comment_created(comment_event(f"/{kind}", author=STRANGER), world.ctx)
    assert world.store.jobs() == [] and world.github.check_runs(REPO) == []
    (reply,) = world.replies()
    assert f"Not run: @sam may not run `/{kind}`" in reply.body and "write/maintain/admin" in reply.body


def cancel_queued(world: World, kind: str) -> None:
    on_comment_created(comment_event(f"/{kind}"), world.ctx)
    on_comment_created(comment_event("/cancel"), world.ctx)
    (job,) = world.store.jobs()
    assert job.state == CANCELLED and job.reason == "cancelled by @maya"
    (check,) = world.github.check_runs(REPO, name=f"arborist/{kind}")
    assert (check.status, check.conclusion) == ("completed", "cancelled")
    assert "Cancelled: cancelled by @maya" in world.status_comments()[0].body


def cancel_running(world: World, kind: str) -> None:
    on_comment_created(comment_event(f"/{kind}"), world.ctx)
    world.store.claim("w1", 60)
    on_comment_created(comment_event("/cancel"), world.ctx)
    (job,) = world.store.jobs()
    assert job.state == RUNNING and job.cancel_requested  # the worker's heartbeat sees it and kills the step


def push_supersedes_then_asked_again(world: World, kind: str) -> None:
    on_comment_created(comment_event(f"/{kind}"), world.ctx)
    world.github.set_pull_head(REPO, PR, NEW_HEAD)
    on_pr_synchronize(synchronize_event(NEW_HEAD), world.ctx)
    (job,) = world.store.jobs()
    assert job.state == CANCELLED and "superseded by a push of `bbbbbbbbbbbb`" in job.reason
    (check,) = world.github.check_runs(REPO, name=f"arborist/{kind}", head_sha=HEAD)
    assert check.conclusion == "cancelled" and "superseded" in world.status_comments()[0].body
    on_comment_created(comment_event(f"/{kind}"), world.ctx)  # asked again: the new commit gets the job
    assert [(j.sha, j.state) for j in world.store.jobs()] == [(HEAD, CANCELLED), (NEW_HEAD, QUEUED)]


def duplicate_links_to_the_queued_job(world: World, kind: str) -> None:
    on_comment_created(comment_event(f"/{kind}"), world.ctx)
    on_comment_created(comment_event(f"/{kind}"), world.ctx)
    (job,) = world.store.jobs()
    (reply,) = world.replies()
    (status,) = world.status_comments()
    assert f"Already queued: job #{job.id}" in reply.body
    assert f"https://github.test/{REPO}/pull/{PR}#issuecomment-{status.id}" in reply.body
    assert len(world.github.check_runs(REPO, name=f"arborist/{kind}")) == 1


def retry_after_failure(world: World, kind: str, failure: str) -> None:
    on_comment_created(comment_event(f"/{kind}"), world.ctx)
    job = world.store.claim("w1", 60)
    assert job is not None
    world.store.finish(job.id, "w1", "failed", result_title=failure)
    on_comment_created(comment_event("/retry"), world.ctx)
    (job,) = world.store.jobs()
    assert (job.kind, job.state) == (kind, QUEUED)
    assert len(world.github.check_runs(REPO, name=f"arborist/{kind}")) == 2


def refused_under_actions(world: World, kind: str) -> None:
    on_comment_created(comment_event(f"/{kind}"), world.ctx)
    assert world.store.jobs() == [] and "GitHub Actions" in world.replies()[0].body
