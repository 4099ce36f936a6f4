"""Multi-process training through torchrun (Gloo on CPU) computes what one process computes."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from lab.train.distributed import Dist, my_share
from tests.conftest import REPO_ROOT
from tests.lab.train.conftest import read_metrics

SETTINGS = ["--set=cpu_threads=1", "--set=knowledge_epochs=4", "--set=skills_epochs=4", "--set=max_seq_len=64",
            "--set=max_tokens_per_micro_batch=64", "--no-progress"]


def test_every_rank_runs_the_same_number_of_passes_and_all_batches_are_used_once():
    indices = [10, 11, 12]
    shares = [my_share(indices, Dist(rank, 2)) for rank in range(2)]
    assert shares == [[10, 12], [11, None]]
    assert sorted(i for share in shares for i in share if i is not None) == indices
    assert my_share(indices, Dist()) == indices


@pytest.mark.slow
@pytest.mark.parametrize("mode", ["ddp", "fsdp"])
def test_torchrun_with_two_ranks_matches_one_process_with_twice_the_accumulation(tiny_llama_dir, data_dir, tmp_path, mode):
    torchrun = Path(sys.executable).with_name("torchrun")
    if not torchrun.exists():
        pytest.skip("torchrun is not installed beside this Python")
    env = {**os.environ, "OMP_NUM_THREADS": "1"}
    common = ["--data", str(data_dir), "--base", str(tiny_llama_dir), *SETTINGS]
    launch = [str(torchrun), "--standalone", "--nproc_per_node=2", "-m", "lab.cli", "train", *common,
              f"--set=distributed={mode}", "--set=save_every_steps=2", "--out", str(tmp_path / "ddp")]
    if mode == "fsdp":  # sharded checkpoints are gathered and restored: stop mid-phase 1, then resume
        stopped = subprocess.run([*launch, "--stop-after-steps=5"], cwd=REPO_ROOT, env=env, capture_output=True,
                                 text=True, timeout=240)
        assert stopped.returncode != 0 and (tmp_path / "ddp" / "phase1" / "checkpoint-4").is_dir(), stopped.stderr[-3000:]
        launch.append("--resume")
    two = subprocess.run(launch, cwd=REPO_ROOT, env=env, capture_output=True, text=True, timeout=240)
    assert two.returncode == 0, two.stdout[-2000:] + two.stderr[-3000:]
    one = subprocess.run([sys.executable, "-m", "lab.cli", "train", *common, "--set=grad_accum=2", "--set=save_every_steps=2",
                          "--out", str(tmp_path / "one")], cwd=REPO_ROOT, env=env, capture_output=True, text=True, timeout=240)
    assert one.returncode == 0, one.stderr[-3000:]
    ddp, single = read_metrics(tmp_path / "ddp"), read_metrics(tmp_path / "one")
    assert [(m["phase"], m["step"]) for m in ddp] == [(m["phase"], m["step"]) for m in single]
    for a, b in zip(ddp, single, strict=True):
        assert a["loss"] == pytest.approx(b["loss"], rel=1e-4) and a["lr"] == pytest.approx(b["lr"])
    assert (tmp_path / "ddp" / "final" / "config.json").is_file()
