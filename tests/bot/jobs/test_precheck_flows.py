"""/precheck on the job machinery, against the in-memory GitHub: accepted, refused, cancelled, superseded, duplicated.

The flows /preview shares are asserted in tests.bot.jobs.command_flows; this module adds /precheck's own.
"""

from __future__ import annotations

from bot.handlers.comments import on_comment_created
from tests.bot.jobs import command_flows as flows
from tests.bot.jobs.world import STRANGER, comment_event, make_world

AUTHOR = "contributor"  # the PR's author in tests.bot.jobs.world, with read permission only
AUTHORS_ALLOWED = "precheck:\n  allow_author: true\n  max_questions: 12\n"


def test_accepted_precheck_reacts_queues_a_job_with_its_own_check_run_and_the_status_comment(tmp_path):
    world = make_world(tmp_path, config="precheck:\n  max_questions: 12\n")
    job, command = flows.accepted(world, "precheck", "Before I review:\n/precheck knowledge/trees")
    assert job.args["max_questions"] == 12 and command[command.index("--max-questions") + 1] == "12"


def test_a_stranger_is_refused_with_the_reason_and_nothing_is_queued(tmp_path):
    flows.stranger_refused(make_world(tmp_path), "precheck")


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
    flows.cancel_queued(make_world(tmp_path), "precheck")


def test_cancel_of_a_running_precheck_asks_its_worker_to_stop(tmp_path):
    flows.cancel_running(make_world(tmp_path), "precheck")


def test_a_push_supersedes_the_precheck_of_the_old_commit(tmp_path):
    flows.push_supersedes_then_asked_again(make_world(tmp_path), "precheck")


def test_a_duplicate_precheck_while_one_is_queued_links_to_it_and_queues_nothing(tmp_path):
    flows.duplicate_links_to_the_queued_job(make_world(tmp_path), "precheck")


def test_a_precheck_and_a_generate_on_one_pr_are_separate_jobs_with_separate_limits(tmp_path):
    world = make_world(tmp_path, config="precheck:\n  max_queued_per_pr: 1\n")
    on_comment_created(comment_event("/generate"), world.ctx)
    on_comment_created(comment_event("/precheck"), world.ctx)
    on_comment_created(comment_event("/precheck knowledge/other"), world.ctx)
    assert [j.kind for j in world.store.jobs()] == ["generate", "precheck"]
    assert "`precheck.max_queued_per_pr`" in world.replies()[0].body


def test_retry_runs_a_failed_precheck_again(tmp_path):
    flows.retry_after_failure(make_world(tmp_path), "precheck", "the model could not answer")


def test_precheck_refuses_plainly_under_the_actions_executor(tmp_path):
    flows.refused_under_actions(make_world(tmp_path, executor="actions"), "precheck")
