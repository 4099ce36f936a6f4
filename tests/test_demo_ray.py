"""End to end on Ray: the demo's story with every job on a real local Ray cluster, by settings alone.

A merged PR reaches the bot, the bot's Ray-mode worker submits the retrain as a Ray job, the job fans the
leaves out over two teacher replicas as Ray tasks and trains on two Ray Train workers (Gloo on CPU), the
release lands on the Hub stand-in and the note on the PR. (A worker killed mid-training resuming from its
checkpoint is tested in tests/bot/jobs/test_ray.py, on the same training code.)
"""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

pytest.importorskip("ray.train")

REPO_ROOT = Path(__file__).resolve().parent.parent
DEMO_TIMEOUT_S = 900  # a Ray head, and a Ray process for each step, task and training worker, on 2 busy cores
pytestmark = pytest.mark.timeout(DEMO_TIMEOUT_S + 60)  # the module's demo runs inside its first test's time


@pytest.fixture(scope="module")
def ray_demo(tmp_path_factory):
    out = tmp_path_factory.mktemp("demo-ray") / "out"
    env = {**os.environ, "PYTHONPATH": str(REPO_ROOT)}
    result = subprocess.run([sys.executable, "-m", "bot.cli", "demo", "--fast", "--ray", "--out", str(out),
                             "--timeout", str(DEMO_TIMEOUT_S - 30)], cwd=REPO_ROOT, env=env, capture_output=True,
                            text=True, timeout=DEMO_TIMEOUT_S)
    assert result.returncode == 0, f"demo failed:\n{result.stdout[-4000:]}\n{result.stderr[-4000:]}"
    return out, result.stdout


def _job_log(out: Path, kind: str) -> str:
    [job] = [json.loads(p.read_text()) for p in sorted(out.glob(f"*-data-{kind}-job.json"))]
    return (out / "logs" / "jobs" / f"job-{job['id']}-attempt-1.log").read_text()


@pytest.mark.slow
def test_the_retrain_runs_as_a_ray_job_fanned_out_over_two_replicas_and_two_train_workers(ray_demo):
    out, _ = ray_demo
    log = _job_log(out, "retrain")
    assert "submitted to the Ray cluster" in log
    replicas = dict(re.findall(r"teacher replica (http://127\.0\.0\.1:\d+/v1): (\d+) leaves", log))
    assert len(replicas) == 2 and all(int(n) >= 1 for n in replicas.values()), log[-3000:]  # both generated leaves
    overall = re.search(r"teacher replica all: (\d+) leaves", log)
    assert overall and int(overall.group(1)) == sum(int(n) for n in replicas.values()), log[-3000:]
    assert "training on 2 Ray Train workers (CPU, ddp)" in log


@pytest.mark.slow
def test_the_pr_command_ran_on_ray_and_the_release_reached_the_hub_and_the_pr(ray_demo):
    out, stdout = ray_demo
    assert "submitted to the Ray cluster" in _job_log(out, "generate")
    summary = json.loads((out / "summary.json").read_text())
    assert summary["ok"] and all(step["ok"] for step in summary["timeline"])
    [note] = sorted(out.glob("*-comment-release-note-on-the-merged-pr.md"))
    assert "Your contribution is in release" in note.read_text()
    assert "on the Hub stand-in" in stdout
