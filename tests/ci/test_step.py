"""ci.step: every step starts one way (a bad setting is exit 2 in one line) and a crash still reports a result."""

from __future__ import annotations

import json

import pytest

from ci.generate import parse_args as generate_args
from ci.retrain import parse_args as retrain_args
from ci.step import EXIT_USAGE, run_step, step_reporter
from schemas.steplines import RESULT_PREFIX

PR_ARGV = ["--repo", "acme/taxonomy", "--pr", "7", "--sha", "a" * 40, "--job-id", "3", "--status-comment-id", "11"]


@pytest.fixture
def stdout_env(monkeypatch, tmp_path):
    for name in ("ARBORIST_REPORT", "ARBORIST_GITHUB_TOKEN", "GITHUB_TOKEN"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("ARBORIST_DATA_DIR", str(tmp_path))


def _result(out: str) -> dict:
    lines = [line for line in out.splitlines() if line.startswith(RESULT_PREFIX)]
    assert len(lines) == 1, out
    return json.loads(lines[0][len(RESULT_PREFIX):])


def test_a_pr_steps_reporter_names_the_pr_and_its_status_comment_and_a_retrains_has_neither(stdout_env):
    from ci.env import CiEnv

    env = CiEnv.from_environ({})
    pr = step_reporter("precheck", generate_args(PR_ARGV), env)
    assert (pr.kind, pr.repo, pr.pr, pr.job_id, pr.status_comment_id) == ("precheck", "acme/taxonomy", 7, 3, 11)
    retrain = step_reporter("retrain", retrain_args(["--repo", "acme/t", "--sha", "b" * 40, "--job-id", "9",
                                                     "--check-run-id", "5"]), env)
    assert (retrain.pr, retrain.status_comment_id, retrain.check_run_id, retrain.job_id) == (None, None, 5, 9)


def test_a_bad_setting_is_one_line_and_exit_2_and_the_step_never_runs(monkeypatch, capsys, stdout_env):
    monkeypatch.setenv("ARBORIST_REPORT", "github")  # without a token: the step cannot report
    ran = []
    assert run_step("generate", generate_args(PR_ARGV), lambda *a: ran.append(a) or 0) == EXIT_USAGE
    assert ran == []
    err = capsys.readouterr().err.strip()
    assert "\n" not in err and "ARBORIST_REPORT=github" in err


def test_an_exception_in_the_step_is_a_reported_failure_not_a_silent_death(capsys, stdout_env):
    def crashes(args, env, reporter):
        raise OSError("disk full while writing the adapter")

    assert run_step("preview", generate_args(PR_ARGV), crashes, crash_title="the preview failed") == 1
    result = _result(capsys.readouterr().out)
    assert result["conclusion"] == "failure" and result["title"] == "the preview failed"
    assert "OSError: disk full" in result["summary"]


def test_without_a_crash_title_the_exception_propagates(stdout_env):
    def crashes(args, env, reporter):
        raise ValueError("a bug to see in the traceback")

    with pytest.raises(ValueError, match="a bug"):
        run_step("generate", generate_args(PR_ARGV), crashes)
