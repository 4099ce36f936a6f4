"""ci.env.CiEnv is the one reader of a step's environment: every setting is a field, secrets never in its repr."""

from __future__ import annotations

import ast
from pathlib import Path

from ci.env import CiEnv
from ci.generate import cache_dir, data_link
from ci.retrain import settings_from_environ

CI_DIR = Path(__file__).resolve().parents[2] / "ci"


def test_the_runners_settings_are_fields_and_the_hub_token_stays_out_of_the_repr():
    env = CiEnv.from_environ({"ARBORIST_TEACHER": "smollm2-135m-instruct", "ARBORIST_BASE_MODEL": "/models/student",
                              "ARBORIST_TRAIN_CONFIG": "max_steps: 3", "ARBORIST_RELEASE_DIR": "/srv/releases",
                              "HF_ENDPOINT": "http://127.0.0.1:9", "HF_TOKEN": "hf_supersecretvalue",
                              "ARBORIST_CACHE_DIR": "/cache"})
    assert (env.teacher, env.base_model, env.train_config, env.release_dir) == (
        "smollm2-135m-instruct", "/models/student", "max_steps: 3", "/srv/releases")
    assert env.hf_endpoint == "http://127.0.0.1:9" and env.hf_token == "hf_supersecretvalue"
    assert "hf_supersecretvalue" not in repr(env) and "hf_token=***" in repr(env)
    assert cache_dir(env) == Path("/cache")
    assert cache_dir(CiEnv.from_environ({"ARBORIST_DATA_DIR": "/data"})) == Path("/data/sdg-cache")


def test_retrain_settings_are_read_through_ci_env(monkeypatch):
    monkeypatch.setenv("ARBORIST_TEACHER", "teacher-x")
    monkeypatch.setenv("ARBORIST_BASE_MODEL", "student-y")
    monkeypatch.delenv("ARBORIST_RELEASE_DIR", raising=False)
    settings = settings_from_environ()
    assert (settings.teacher, settings.base_model, settings.release_dir) == ("teacher-x", "student-y", None)


def test_the_data_link_is_the_actions_run_then_the_bots_template_then_a_path():
    actions = CiEnv.from_environ({"GITHUB_RUN_ID": "77", "GITHUB_REPOSITORY": "acme/taxonomy",
                                  "ARBORIST_ARTEFACT_URL_TEMPLATE": "https://bot.test/jobs/{job_id}/data"})
    assert data_link(actions, 4, Path("/out")) == "https://github.com/acme/taxonomy/actions/runs/77"
    bot = CiEnv.from_environ({"ARBORIST_ARTEFACT_URL_TEMPLATE": "https://bot.test/jobs/{job_id}/data"})
    assert data_link(bot, 4, Path("/out")) == "https://bot.test/jobs/4/data"
    assert data_link(CiEnv.from_environ({}), 4, Path("/out")) == "`/out` on the worker"


def test_no_ci_module_but_ci_env_reads_the_environment():
    readers = []
    for path in sorted(CI_DIR.glob("*.py")):
        if path.name == "env.py":
            continue
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.Attribute) and node.attr in ("environ", "getenv") and \
                    isinstance(node.value, ast.Name) and node.value.id == "os":
                readers.append(f"{path.name}:{node.lineno}")
    assert readers == []
