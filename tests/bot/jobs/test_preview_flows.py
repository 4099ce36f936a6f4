"""/preview on the job machinery, against the in-memory GitHub: accepted, refused, cancelled, superseded, duplicated.

The flows /precheck shares are asserted in tests.bot.jobs.command_flows; this module adds /preview's own.
"""

from __future__ import annotations

from bot.handlers.comments import on_comment_created
from tests.bot.jobs import command_flows as flows
from tests.bot.jobs.world import HEAD, comment_event, make_world

AUTHOR = "contributor"  # the PR's author in tests.bot.jobs.world, with read permission only


def test_accepted_preview_reacts_queues_a_job_with_its_own_check_run_and_the_status_comment(tmp_path):
    world = make_world(tmp_path)
    _, command = flows.accepted(world, "preview", "Looks plausible; let's see what it teaches.\n/preview knowledge/trees")
    assert command[command.index("--sha") + 1] == HEAD


def test_a_stranger_is_refused_with_the_reason_and_nothing_is_queued(tmp_path):
    flows.stranger_refused(make_world(tmp_path), "preview")


def test_the_prs_author_may_not_preview_even_where_authors_may_precheck(tmp_path):
    world = make_world(tmp_path, config="precheck:\n  allow_author: true\n")
    on_comment_created(comment_event("/preview", author=AUTHOR), world.ctx)
    assert world.store.jobs() == []
    assert "may not run `/preview`" in world.replies()[0].body


def test_cancel_stops_a_queued_preview_and_its_check_run(tmp_path):
    flows.cancel_queued(make_world(tmp_path), "preview")


def test_cancel_of_a_running_preview_asks_its_worker_to_stop(tmp_path):
    flows.cancel_running(make_world(tmp_path), "preview")


def test_a_push_supersedes_the_preview_of_the_old_commit(tmp_path):
    flows.push_supersedes_then_asked_again(make_world(tmp_path), "preview")


def test_a_duplicate_preview_while_one_is_queued_answers_already_queued_and_queues_nothing(tmp_path):
    flows.duplicate_links_to_the_queued_job(make_world(tmp_path), "preview")


def test_a_second_different_preview_on_one_pr_is_refused_by_the_per_pr_limit(tmp_path):
    world = make_world(tmp_path)  # preview.max_queued_per_pr defaults to 1: a preview is expensive
    on_comment_created(comment_event("/preview"), world.ctx)
    on_comment_created(comment_event("/preview knowledge/other"), world.ctx)
    on_comment_created(comment_event("/precheck"), world.ctx)  # another kind keeps its own limit
    assert [j.kind for j in world.store.jobs()] == ["preview", "precheck"]
    assert "`preview.max_queued_per_pr` in `.github/arborist.yml`" in world.replies()[0].body


def test_retry_runs_a_failed_preview_again(tmp_path):
    flows.retry_after_failure(make_world(tmp_path), "preview", "training failed")


def test_preview_refuses_plainly_under_the_actions_executor(tmp_path):
    flows.refused_under_actions(make_world(tmp_path, executor="actions"), "preview")
