"""A real `lab train` process killed with SIGKILL mid-run resumes to the uninterrupted run's curve."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time

import pytest

from lab.train.config import TrainConfig
from lab.train.trainer import RunOptions, train
from tests.conftest import REPO_ROOT
from tests.lab.train.conftest import comparable, read_metrics, write_data

SETTINGS = {"cpu_threads": 1, "knowledge_epochs": 3, "skills_epochs": 3, "max_tokens_per_micro_batch": 96, "max_seq_len": 64,
            "save_every_steps": 4}


def _lab_train(data, base, out, *extra):
    command = [sys.executable, "-m", "lab.cli", "train", "--data", str(data), "--base", str(base), "--out", str(out),
               "--no-progress", *[f"--set={k}={v}" for k, v in SETTINGS.items()], *extra]
    return subprocess.Popen(command, cwd=REPO_ROOT, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)


@pytest.mark.slow
def test_sigkilled_lab_train_resumes_and_ends_like_an_uninterrupted_run(tiny_llama_dir, tmp_path):
    many = [(f"Fact {i}: what is item {i}?", f"Item {i} is a thing.") for i in range(16)]
    data = write_data(tmp_path / "data", knowledge=many, skills=many[:6])
    out = tmp_path / "killed"
    proc = _lab_train(data, tiny_llama_dir, out, "--debug-step-delay", "0.05")
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline and not (out / "phase1" / "checkpoint-8" / "state.json").exists():
        assert proc.poll() is None, proc.stdout.read()
        time.sleep(0.02)
    time.sleep(0.12)  # a step or two past the checkpoint, and maybe into the next save
    os.kill(proc.pid, signal.SIGKILL)
    proc.wait(timeout=30)
    assert proc.returncode == -signal.SIGKILL
    assert not (out / "final").exists()
    resumed = _lab_train(data, tiny_llama_dir, out, "--resume")
    log, _ = resumed.communicate(timeout=180)
    assert resumed.returncode == 0, log
    assert "resuming from checkpoint-" in log
    config = TrainConfig(**SETTINGS)
    train(data, str(tiny_llama_dir), tmp_path / "straight", config, RunOptions(progress=False, log=lambda s: None))
    assert comparable(read_metrics(out)) == comparable(read_metrics(tmp_path / "straight"))
    assert (out / "final" / "config.json").is_file()
