"""The workflow templates a taxonomy repository installs: valid, least-privilege, inputs only as data."""

from __future__ import annotations

import os
import re
import shutil
import subprocess
from pathlib import Path

import pytest
import yaml

from bot.handlers.workflow import TITLE_RE
from bot.jobs.executors import dispatch_inputs
from bot.jobs.model import Job

ROOT = Path(__file__).resolve().parents[3]
TEMPLATES = ROOT / ".github" / "taxonomy-workflows"
NAMES = {"generate": "arborist-generate.yml", "retrain": "arborist-retrain.yml"}


def load(kind: str) -> dict:
    return yaml.safe_load((TEMPLATES / NAMES[kind]).read_text())


@pytest.mark.parametrize("kind", sorted(NAMES))
def test_template_is_a_valid_workflow_by_githubs_schema(kind):
    exe = shutil.which("check-jsonschema") or str(Path(os.sys.executable).parent / "check-jsonschema")
    if not Path(exe).exists():
        pytest.skip("check-jsonschema is not installed (pip install check-jsonschema)")
    result = subprocess.run([exe, "--builtin-schema", "vendor.github-workflows", str(TEMPLATES / NAMES[kind])],
                            capture_output=True, text=True, timeout=60)
    assert result.returncode == 0, result.stdout + result.stderr


@pytest.mark.parametrize("kind", sorted(NAMES))
def test_template_has_least_privilege_and_never_checks_out_the_pr(kind):
    workflow = load(kind)
    assert workflow["permissions"] == {"contents": "read", "pull-requests": "write"}
    text = (TEMPLATES / NAMES[kind]).read_text()
    assert "actions/checkout" not in text and "pull_request_target" not in text
    for job in workflow["jobs"].values():
        assert "vars.ARBORIST_RUNS_ON" in job["runs-on"] and '["self-hosted", "gpu"]' in job["runs-on"]
        for step in job["steps"]:
            assert "${{ inputs." not in step.get("run", ""), "inputs must reach the shell through env only"


@pytest.mark.parametrize("kind", sorted(NAMES))
def test_the_dispatched_inputs_are_what_the_template_declares_and_names_match_the_follower(kind):
    workflow = load(kind)
    declared = set(workflow[True]["workflow_dispatch"]["inputs"])
    job = Job(id=12, kind=kind, repo="o/r", sha="f" * 40, state="queued", pr=3 if kind == "generate" else None,
              status_comment_id=77, args={"samples": 4, "leaves": ["knowledge/a"]})
    assert set(dispatch_inputs(job)) <= declared
    def fill(text: str) -> str:
        return text.replace("${{ inputs.job_id }}", "12").replace("${{ inputs.sha }}", "f" * 40)

    (wf_job,) = workflow["jobs"].values()
    for name in (workflow["run-name"], wf_job["name"]):
        assert TITLE_RE.search(fill(name)).groups() == (kind, "12", "f" * 40)


def _run_step(tmp_path: Path, kind: str, inputs: dict[str, str]) -> subprocess.CompletedProcess:
    """Run the template's step script with a shim python that prints the arguments it got."""
    (wf_job,) = load(kind)["jobs"].values()
    step = wf_job["steps"][-1]
    shim = tmp_path / "arborist" / "bin" / "python"
    shim.parent.mkdir(parents=True)
    shim.write_text('#!/bin/sh\nfor a in "$@"; do echo "arg:$a"; done\n')
    shim.chmod(0o755)
    env = {"PATH": os.environ["PATH"], "RUNNER_TEMP": str(tmp_path), "GITHUB_REPOSITORY": "acme/taxonomy"}
    env.update({k: v for k, v in step["env"].items() if not str(v).startswith("${{")})
    env.update({k.upper(): v for k, v in inputs.items()})
    return subprocess.run(["bash", "-c", step["run"]], env=env, capture_output=True, text=True, cwd=tmp_path,
                          timeout=30)


def test_generate_step_builds_the_ci_arguments_and_treats_leaves_as_data(tmp_path):
    result = _run_step(tmp_path, "generate", {"job_id": "12", "pr": "3", "sha": "f" * 40, "status_comment_id": "77",
                                               "samples": "4", "leaves": "knowledge/a $(touch pwned) knowledge/b"})
    assert result.returncode == 0, result.stderr
    args = [line[4:] for line in result.stdout.splitlines()]
    assert args[:2] == ["-m", "ci.generate"]
    assert args[2:] == ["--repo", "acme/taxonomy", "--pr", "3", "--sha", "f" * 40, "--job-id", "12",
                        "--status-comment-id", "77", "--samples", "4", "--leaf", "knowledge/a", "--leaf", "$(touch",
                        "--leaf", "pwned)", "--leaf", "knowledge/b"]
    assert not (tmp_path / "pwned").exists()


def test_steps_refuse_malformed_inputs(tmp_path):
    bad = _run_step(tmp_path, "retrain", {"job_id": "1; rm -rf /", "sha": "f" * 40})
    assert bad.returncode == 2 and "bad inputs" in bad.stdout
    assert re.search(r"arg:", bad.stdout) is None
