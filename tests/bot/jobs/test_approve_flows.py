"""/approve against the in-memory GitHub: recorded durably, withdrawn by a push, handed to the retrain."""

from __future__ import annotations

from bot.context import Event
from bot.handlers.comments import on_comment_created, on_pr_synchronize
from bot.handlers.push import on_push
from bot.jobs.approvals import ApprovalStore
from bot.jobs.worker import ci_command
from lab.github.protocol import PullRequest
from tests.bot.jobs.world import (
    HEAD,
    NEW_HEAD,
    PR,
    REPO,
    STRANGER,
    comment_event,
    comment_payload,
    make_world,
    push_event,
    synchronize_event,
)

REQUIRED = "retrain:\n  require_approval: true\n"
MERGED_PR = 8


def merged_comment(body: str, author: str = "maya") -> Event:
    payload = comment_payload(body, author, number=MERGED_PR, state="closed")
    payload["issue"]["pull_request"]["merged_at"] = "2026-01-02T00:00:00Z"
    return Event.from_delivery("issue_comment", f"d-merged-{payload['comment']['id']}", payload)


def add_merged_pull(world, merged: bool = True) -> None:
    world.github.add_pull(REPO, PullRequest(number=MERGED_PR, state="closed", head_sha="d" * 40, head_ref="leaf",
                                            base_ref="main", base_sha="c" * 40, author="contributor", merged=merged,
                                            html_url=f"https://github.test/{REPO}/pull/{MERGED_PR}"))


def test_a_maintainers_approve_is_recorded_durably_and_answered(tmp_path):
    world = make_world(tmp_path, config=REQUIRED)
    on_comment_created(comment_event("/approve"), world.ctx)
    (reply,) = world.replies()
    assert f"Approved by @maya at commit `{HEAD[:12]}`" in reply.body
    assert "enter the retrain that its merge starts" in reply.body and "A push to this pull request withdraws" in reply.body
    reopened = ApprovalStore(world.settings.db_path)  # another process, or the bot after a restart
    approval = reopened.get(REPO, PR)
    assert approval is not None and (approval.sha, approval.approved_by) == (HEAD, "maya")
    assert world.store.jobs() == []  # an approval queues no job by itself


def test_a_stranger_may_not_approve(tmp_path):
    world = make_world(tmp_path, config=REQUIRED)
    on_comment_created(comment_event("/approve", author=STRANGER), world.ctx)
    assert world.service.approvals.get(REPO, PR) is None
    assert "@sam may not run `/approve`" in world.replies()[0].body


def test_approving_the_same_commit_twice_says_so(tmp_path):
    world = make_world(tmp_path, config=REQUIRED)
    on_comment_created(comment_event("/approve"), world.ctx)
    on_comment_created(comment_event("/approve"), world.ctx)
    assert "Already approved: @maya approved commit" in world.replies()[-1].body


def test_without_require_approval_the_reply_says_it_changes_nothing(tmp_path):
    world = make_world(tmp_path)
    on_comment_created(comment_event("/approve"), world.ctx)
    assert "does not require approvals" in world.replies()[0].body


def test_a_push_withdraws_the_approval_and_the_retrain_after_merge_does_not_carry_it(tmp_path):
    world = make_world(tmp_path, config=REQUIRED)
    on_comment_created(comment_event("/approve"), world.ctx)
    world.github.set_pull_head(REPO, PR, NEW_HEAD)
    on_pr_synchronize(synchronize_event(NEW_HEAD), world.ctx)
    assert world.service.approvals.get(REPO, PR) is None
    on_push(push_event("1" * 40), world.ctx)  # merged without a new /approve
    (retrain,) = world.store.jobs()
    command = ci_command(retrain, "python")
    assert retrain.args["approved"] == [] and command[command.index("--approved") + 1] == ""


def test_an_approval_before_merge_travels_with_the_retrain_the_merge_starts(tmp_path):
    world = make_world(tmp_path, config=REQUIRED)
    on_comment_created(comment_event("/approve"), world.ctx)
    on_push(push_event("1" * 40), world.ctx)
    (retrain,) = world.store.jobs()
    assert retrain.args["approved"] == [PR]
    command = ci_command(retrain, "python")
    assert command[command.index("--approved") + 1] == str(PR)


def test_approve_after_merge_is_accepted_and_a_queued_retrain_picks_it_up(tmp_path):
    world = make_world(tmp_path, config=REQUIRED)
    add_merged_pull(world)
    on_push(push_event("1" * 40, message=f"Merge pull request #{MERGED_PR} from fork/leaf"), world.ctx)
    on_comment_created(merged_comment("/approve"), world.ctx)
    (retrain,) = world.store.jobs()
    assert retrain.args["approved"] == [MERGED_PR] and retrain.sha == "1" * 40
    (reply,) = [c for c in world.github.comments_on(REPO, MERGED_PR) if c.author == world.github.login]
    assert f"enter the queued retrain (job #{retrain.id})" in reply.body and "withdraws" not in reply.body


def test_other_commands_and_a_closed_unmerged_pr_are_still_refused(tmp_path):
    world = make_world(tmp_path, config=REQUIRED)
    add_merged_pull(world, merged=False)
    on_comment_created(merged_comment("/generate"), world.ctx)
    payload = comment_payload("/approve", number=MERGED_PR, state="closed")
    on_comment_created(Event.from_delivery("issue_comment", "d-closed", payload), world.ctx)
    replies = [c.body for c in world.github.comments_on(REPO, MERGED_PR)]
    assert len(replies) == 2 and all("this pull request is closed" in r for r in replies)
    assert world.service.approvals.get(REPO, MERGED_PR) is None and world.store.jobs() == []
