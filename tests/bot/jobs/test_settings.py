"""Job and ci-step settings: read once from the environment, bad values named, secrets never shown."""

from __future__ import annotations

from pathlib import Path

import pytest

from bot.jobs.settings import JobSettings
from ci.env import CiEnv, EnvError, github_client


def test_job_settings_read_typed_values_from_the_environment():
    settings = JobSettings.from_environ({"ARBORIST_EXECUTOR": "actions", "ARBORIST_LEASE_S": "30",
                                         "ARBORIST_HEARTBEAT_S": "5", "ARBORIST_MAX_ATTEMPTS": "5",
                                         "ARBORIST_DATA_DIR": "/srv/arborist"})
    assert (settings.executor, settings.lease_s, settings.heartbeat_s, settings.max_attempts) == ("actions", 30, 5, 5)
    assert settings.db_path == Path("/srv/arborist/jobs.sqlite3")
    assert JobSettings.from_environ({}) == JobSettings()


@pytest.mark.parametrize(("env", "message"), [
    ({"ARBORIST_EXECUTOR": "kubernetes"}, "ARBORIST_EXECUTOR"),
    ({"ARBORIST_LEASE_S": "soon"}, "ARBORIST_LEASE_S"),
    ({"ARBORIST_HEARTBEAT_S": "90"}, "heartbeat_s < lease_s"),
    ({"ARBORIST_MAX_ATTEMPTS": "0"}, "ARBORIST_MAX_ATTEMPTS: input should be greater than or equal to 1"),
])
def test_bad_job_settings_are_refused_by_name(env, message):
    with pytest.raises(ValueError, match=message):
        JobSettings.from_environ(env)


def test_ci_env_hides_the_token_and_needs_one_to_report_to_github():
    env = CiEnv.from_environ({"ARBORIST_REPORT": "github", "GITHUB_TOKEN": "ghs_supersecret123",
                              "ARBORIST_GITHUB_URL": "http://127.0.0.1:9/"})
    assert "ghs_supersecret123" not in repr(env) and env.api_url == "http://127.0.0.1:9"
    assert env.git_token == "ghs_supersecret123"
    assert github_client(env).base_url == "http://127.0.0.1:9"  # the PyGithub adapter, connecting lazily
    assert github_client(CiEnv.from_environ({})) is None  # a local worker relays the reports
    with pytest.raises(EnvError, match="needs ARBORIST_GITHUB_TOKEN"):
        github_client(CiEnv.from_environ({"ARBORIST_REPORT": "github"}))
    with pytest.raises(EnvError, match="ARBORIST_REPORT"):
        CiEnv.from_environ({"ARBORIST_REPORT": "email"})
