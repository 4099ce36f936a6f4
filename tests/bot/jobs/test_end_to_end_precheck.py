"""Over real HTTP: a maintainer's /precheck -> the Arborist server -> stand-in GitHub -> a real `arborist worker`
running `ci.precheck` with the tiny model on the PR head, read as data from a local git remote."""

from __future__ import annotations

import subprocess
import sys

import pytest

from tests.bot.helpers import body_of, delivery_headers
from tests.bot.jobs.served_jobs import served_bot
from tests.bot.jobs.test_end_to_end_jobs import comment_bodies, seed_comment
from tests.bot.jobs.world import comment_payload
from tests.ci.test_generate import ATTRIBUTION
from tests.gitrepo import commit, git
from tests.lab.generate.conftest import FREEFORM

REPO = "octo/taxonomy"
LEAF = "compositional_skills/linguistics/synonyms/qna.yaml"
CONFIG = b"precheck:\n  max_questions: 4\n"


@pytest.fixture
def model_env(tiny_llama_dir) -> dict[str, str]:
    """The worker's model settings (the real-model test overrides this)."""
    return {"ARBORIST_BASE_MODEL": str(tiny_llama_dir)}


@pytest.fixture
def repo_config() -> bytes:
    """The taxonomy's `.github/arborist.yml` on its default branch (the /preview tests bound their runs here)."""
    return CONFIG


@pytest.fixture
def world(standin, app_key, tmp_path, no_sleep, model_env, repo_config):
    """A git remote and the stand-in that agree on every SHA, the bot serving, and the worker's environment."""
    remote = tmp_path / "git" / "octo" / "taxonomy.git"
    remote.mkdir(parents=True)
    git(remote, "init", "-q", "-b", "main")
    base = {".github/arborist.yml": repo_config, "README.md": b"taxonomy\n"}
    base_sha = commit(remote, base, "base")
    git(remote, "checkout", "-q", "-b", "add-synonyms")
    pr_files = {LEAF: FREEFORM, LEAF.replace("qna.yaml", "attribution.txt"): ATTRIBUTION}
    head = commit(remote, pr_files, "Add a synonyms leaf")
    git(remote, "checkout", "-q", "main")
    state = standin.state
    state.add_repo(REPO)
    state.commit(REPO, "main", base, "base", sha=base_sha, whole_tree=True)
    state.commit(REPO, "add-synonyms", {**base, **pr_files}, "Add a synonyms leaf", sha=head, parent=base_sha,
                 whole_tree=True)
    number = state.open_pull(REPO, "add-synonyms", author="first-timer")
    state.set_permission(REPO, "maya", "maintain")
    worker_env = {"ARBORIST_LEASE_S": "30", "ARBORIST_JOB_TIMEOUT_S": "400", **model_env,
                  "ARBORIST_GIT_URL_TEMPLATE": (tmp_path / "git").as_uri() + "/{repo}.git"}
    with served_bot(standin, app_key, tmp_path, no_sleep, worker_env) as (client, dispatcher, jobs, env):
        env.pop("ARBORIST_RELEASE_DIR", None)
        yield client, dispatcher, state, number, jobs, env, head


def run_command(world, command: str, kind: str, timeout_s: float = 450) -> tuple[str, object]:
    """Deliver a maintainer's command, run one worker to the end; (the status comment's body, the job)."""
    client, dispatcher, state, number, jobs, env, head = world
    payload = comment_payload(command, "maya", number=number)
    payload |= {"repository": {"full_name": REPO, "default_branch": "main"}, "installation": {"id": 1}}
    seed_comment(state, number, payload["comment"])
    body = body_of(payload)
    response = client.post("/webhook", content=body, headers=delivery_headers("issue_comment", body, f"d-{kind}"))
    assert response.status_code < 300 and dispatcher.wait_idle(30)
    (job,) = jobs.store.jobs()
    assert (job.kind, job.state, job.sha) == (kind, "queued", head)
    result = subprocess.run([sys.executable, "-m", "bot.cli", "worker", "--once", "--log-level", "warning"],
                            env=env, capture_output=True, text=True, timeout=timeout_s)
    assert result.returncode == 0, result.stderr[-2000:]
    (job,) = jobs.store.jobs()
    assert job.state == "succeeded", (job.result_title, job.result_md[-1500:])
    (status,) = [c for c in state.comments(REPO, number) if "arborist:status" in c["body"]]
    walked = [b.split("**")[1] for b in comment_bodies(state, status["id"]) if "**" in b]
    assert walked[0] == "queued" and "running" in walked and walked[-1] == "done"
    (check,) = state.check_runs(REPO, name=f"arborist/{kind}")
    assert (check["status"], check["conclusion"], check["head_sha"]) == ("completed", "success", head)
    return status["body"], job


def run_precheck(world) -> tuple[str, object]:
    return run_command(world, "/precheck", "precheck")


@pytest.mark.slow
def test_precheck_on_the_standin_runs_the_tiny_model_and_reports_side_by_side(world):
    report, job = run_precheck(world)
    assert job.result_title.endswith("of 4 seed questions already answered well")
    assert "**Verdict:** the model" in report and f"`{LEAF}`" in report
    assert "| # | question | seed answer | model answer | ROUGE-L | |" in report and "`Joyful.`" in report
    assert "1 more seed question was not asked" in report
