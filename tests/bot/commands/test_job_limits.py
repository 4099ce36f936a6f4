"""A maintainer cannot flood the GPU queue: identical commands share one job, and PRs and users have limits."""

from __future__ import annotations

from bot.handlers.comments import on_comment_created
from tests.bot.jobs.world import HEAD, MAINTAINER, PR, REPO, add_pull, comment_event, make_world

LIMITS = "generate:\n  max_queued_per_pr: 2\n  max_queued_per_user: 3\n"


def test_fifty_identical_generate_comments_queue_one_job_and_link_it(tmp_path):
    world = make_world(tmp_path)
    for _ in range(50):
        on_comment_created(comment_event("/generate"), world.ctx)
    (job,) = world.store.jobs()
    assert len(world.github.check_runs(REPO, name="arborist/generate", head_sha=HEAD)) == 1
    replies = world.replies()
    assert len(replies) == 49
    (status,) = world.status_comments()
    link = f"https://github.test/{REPO}/pull/{PR}#issuecomment-{status.id}"
    assert all("Already queued" in r.body and f"job #{job.id}" in r.body and link in r.body for r in replies)


def test_an_identical_command_while_the_job_runs_says_running(tmp_path):
    world = make_world(tmp_path)
    on_comment_created(comment_event("/generate --samples 5"), world.ctx)
    world.store.claim("worker-1", 60)
    on_comment_created(comment_event("/generate --samples 5"), world.ctx)
    assert len(world.store.jobs()) == 1
    assert "Already running" in world.replies()[-1].body


def test_different_arguments_queue_until_the_pr_limit(tmp_path):
    world = make_world(tmp_path, config=LIMITS)
    for leaf in ("knowledge/a", "knowledge/b", "knowledge/c"):
        on_comment_created(comment_event(f"/generate {leaf}"), world.ctx)
    assert [j.args["leaves"] for j in world.store.jobs()] == [["knowledge/a"], ["knowledge/b"]]
    (refusal,) = world.replies()
    assert "already has 2 `/generate` jobs" in refusal.body and "generate.max_queued_per_pr" in refusal.body
    assert len(world.github.check_runs(REPO, name="arborist/generate")) == 2


def test_a_finished_job_frees_its_place(tmp_path):
    world = make_world(tmp_path, config=LIMITS)
    on_comment_created(comment_event("/generate knowledge/a"), world.ctx)
    on_comment_created(comment_event("/generate knowledge/b"), world.ctx)
    first = world.store.claim("worker-1", 60)
    world.store.finish(first.id, "worker-1", "succeeded")
    on_comment_created(comment_event("/generate knowledge/c"), world.ctx)
    assert len(world.store.jobs(state="queued")) == 2 and world.replies() == []


def test_one_user_is_limited_across_pull_requests(tmp_path):
    world = make_world(tmp_path, config=LIMITS)
    for number in (PR, 8, 9, 10):
        if number != PR:
            add_pull(world.github, number)
        on_comment_created(comment_event("/generate", number=number), world.ctx)
    assert [j.pr for j in world.store.jobs()] == [PR, 8, 9]
    (refusal,) = world.github.comments_on(REPO, 10)
    assert f"@{MAINTAINER} already has 3" in refusal.body and "generate.max_queued_per_user" in refusal.body


def test_a_redelivered_comment_is_silent(tmp_path):
    world = make_world(tmp_path)
    event = comment_event("/generate")
    on_comment_created(event, world.ctx)
    on_comment_created(event, world.ctx)
    assert len(world.store.jobs()) == 1 and world.replies() == []


def test_limits_are_configurable_and_bounded_by_the_schema():
    from lab.taxonomy.repoconfig import load_repo_config
    from schemas.repo_config import RepoConfig

    assert RepoConfig().generate.max_queued_per_pr == 3 and RepoConfig().generate.max_queued_per_user == 5
    config, problems = load_repo_config(b"generate:\n  max_queued_per_pr: 0\n")
    assert config.generate.max_queued_per_pr == 3 and any("max_queued_per_pr" in p for p in problems)
