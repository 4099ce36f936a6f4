"""What `/preview` trains: its bounds from the repo config, its data files, the LoRA run and the adapter it keeps.

`ci.preview` calls these in order. The bounds come from `.github/arborist.yml`'s `preview:` section
(read at the base branch, checked when read); the runner's own training overrides
(ARBORIST_TRAIN_CONFIG) apply first, then the preview's: LoRA, one stacked phase, at most
`preview.max_steps` steps and `preview.max_minutes` of wall time (`RunOptions.time_limit_s`).
"""

from __future__ import annotations

import shutil
import sys
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from ci.report import Reporter
from schemas.datacontract import KNOWLEDGE_FILE, SKILLS_FILE
from schemas.repo_config import RepoConfig

MAX_SAMPLES = 200  # a hard ceiling of --samples, as of `preview.samples`


@dataclass(frozen=True)
class Bounds:
    """What one preview may spend, from the repo config's `preview:` section, each under a hard ceiling."""

    samples: int  # generated rows per leaf (before the held-out split)
    max_steps: int  # optimizer steps of the LoRA run
    max_minutes: float  # training wall time
    heldout_share: float  # of each leaf's rows, never trained on
    general_questions: int  # fixed general questions asked of both models
    min_effect: float  # the release gate's minimum effect


def bounds_from(config: RepoConfig, samples: int | None = None) -> Bounds:
    """The preview's limits (the config's own bounds are checked when it is read): an explicit `--samples`, else
    `preview.samples`, else `generate.samples`, so a `/generate` of the same leaves is a cache hit."""
    section = config.preview
    return Bounds(samples=min(samples or section.samples or config.generate.samples, MAX_SAMPLES),
                  max_steps=section.max_steps, max_minutes=section.max_minutes, heldout_share=section.heldout_share,
                  general_questions=section.general_questions, min_effect=config.retrain.gate.min_effect)


def read_rows(data: Path) -> list[dict[str, Any]]:
    from lab.train.data import read_messages

    return [row for name in (KNOWLEDGE_FILE, SKILLS_FILE) if (data / name).is_file() for row in read_messages(data / name)]


def write_training_data(rows: list[dict[str, Any]], folder: Path) -> None:
    """The training rows as `lab train` reads a data folder: knowledge and skills apart."""
    from lab.train.data import write_messages

    folder.mkdir(parents=True, exist_ok=True)
    knowledge = [r for r in rows if (r.get("metadata") or {}).get("kind") == "knowledge"]
    skills = [r for r in rows if (r.get("metadata") or {}).get("kind") != "knowledge"]
    write_messages(folder / KNOWLEDGE_FILE, knowledge)
    write_messages(folder / SKILLS_FILE, skills)


def train_adapter(data: Path, base: str, out: Path, bounds: Bounds, reporter: Reporter) -> tuple[Path, dict[str, Any]]:
    """LoRA over `base`, one stacked phase, within the step and time bounds; (the adapter folder, the summary)."""
    from ci.retrain import settings_from_environ
    from lab.train.checkpoint import latest_checkpoint
    from lab.train.config import TrainConfig, apply_overrides, load_config
    from lab.train.trainer import RunOptions, train

    runner = load_config(settings_from_environ().train_config, TrainConfig())  # the runner's own overrides first
    steps = min(runner.max_steps or bounds.max_steps, bounds.max_steps)
    config = apply_overrides(runner, {"method": "lora", "mode": "stacked", "max_steps": steps})
    started = time.monotonic()

    def log(line: str) -> None:
        print(line, file=sys.stderr, flush=True)
        if " step " in line:
            reporter.progress(f"training: {line}", 0.35 + 0.4 * min(1.0, _step_share(line)))

    summary = train(data, base, out, config, RunOptions(progress=False, log=log, time_limit_s=bounds.max_minutes * 60))
    summary["seconds"] = round(time.monotonic() - started, 1)
    checkpoint = latest_checkpoint(out / "stacked")
    if checkpoint is None or not (checkpoint / "adapter").is_dir():
        raise ValueError("training ended without a LoRA adapter")
    return checkpoint / "adapter", summary


def _step_share(line: str) -> float:
    """How far "stacked step 3/12 loss ..." is (0 when the line says nothing)."""
    try:
        done, total = line.split(" step ", 1)[1].split()[0].split("/")
        return int(done) / max(1, int(total))
    except (IndexError, ValueError):
        return 0.0


def keep_adapter(adapter: Path, work: Path) -> Path:
    """Copy the adapter out of the training folder (which is then removed: it holds a merged full model)."""
    kept = work / "adapter"
    shutil.rmtree(kept, ignore_errors=True)
    shutil.copytree(adapter, kept)
    return kept


def steps_taken(summary: dict[str, Any]) -> tuple[int, bool]:
    """(optimizer steps the run took, whether the time limit ended it)."""
    phase: dict[str, Any] = next(iter((summary.get("phases") or {}).values()), {})
    timed_out = phase.get("stopped_at_time_limit")
    return int(timed_out or phase.get("stopped_early_at_step") or phase.get("steps") or 0), bool(timed_out)
