"""The training loop: phases in order, packed micro-batches, accumulation, clipping, checkpoints, resume.

`train()` is the library entry point behind `lab train` and `ci.retrain`. A run is a pure function
of (data, base model, config): data order, packing and LoRA init are seeded, so on CPU a run killed
at any point and resumed with `resume=True` logs the same losses as an uninterrupted one.
"""

from __future__ import annotations

import hashlib
import json
import os
import random
import shutil
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from lab.train import checkpoint as ckpt
from lab.train import distributed
from lab.train.config import TrainConfig
from lab.train.data import (
    Phase,
    load_data_dir,
    mix_phases,
    read_messages,
    replay_count,
    split_heldout,
    with_self_replay,
    write_messages,
)
from lab.train.loop import METRICS_FILE, Run, RunOptions, StopRequested, run_phase
from lab.train.recipe import DataShape, choose_recipe
from lab.train.tokenize import tokenize_messages
from schemas.datacontract import HELDOUT_FILE

SUMMARY_FILE = "train_summary.json"
RUN_FILE = "run.json"
REPLAY_FILE = "self_replay_msgs.jsonl"  # the base model's general answers replayed in every phase
REPLAY_CACHE = "self-replay"  # under the generation cache: answers keyed by base model, prompts and bound
SHAPE_SAMPLE = 2000  # records tokenised to measure the data for the recipe

__all__ = ["RunOptions", "StopRequested", "resolve_recipe", "train"]  # RunOptions, StopRequested: lab.train.loop


def _fingerprint(phases: list[Phase], base: str, config: TrainConfig) -> str:
    digest = hashlib.sha256()
    digest.update(json.dumps(config.to_dict(), sort_keys=True).encode())
    digest.update(str(base).encode())
    for phase in phases:
        digest.update(phase.name.encode())
        for sample in phase.samples:
            digest.update(json.dumps(sample["messages"], sort_keys=True).encode())
    return digest.hexdigest()


def _check_out(out: Path, fingerprint: str, resume: bool) -> bool:
    """Raise when `out` holds another run (or a run without --resume); True when it must be initialised."""
    run_file = out / RUN_FILE
    if run_file.is_file():
        saved = json.loads(run_file.read_text(encoding="utf-8")).get("fingerprint")
        if not resume:
            raise ValueError(f"{out} already holds a run; pass --resume to continue it, or choose a new --out")
        if saved != fingerprint:
            raise ValueError(f"{out}: --resume with different data, base model or config than the saved run")
        return False
    return True


def _init_out(out: Path, fingerprint: str) -> None:
    out.mkdir(parents=True, exist_ok=True)
    (out / METRICS_FILE).unlink(missing_ok=True)
    (out / REPLAY_FILE).unlink(missing_ok=True)
    (out / RUN_FILE).write_text(json.dumps({"fingerprint": fingerprint}), encoding="utf-8")


def _is_main() -> bool:
    from lab.settings import DistSettings

    return DistSettings.from_environ().rank == 0


def _count_parameters(base: str) -> int:
    """Parameters of the base model, counted on the meta device (no weights are read)."""
    import torch
    from transformers import AutoConfig, AutoModelForCausalLM

    with torch.device("meta"):
        model = AutoModelForCausalLM.from_config(AutoConfig.from_pretrained(base))
    return sum(p.numel() for p in model.parameters())


def resolve_recipe(config: TrainConfig, base: str, knowledge: list[dict[str, Any]], skills: list[dict[str, Any]],
                   log: Callable[[str], None] | None) -> TrainConfig:
    """The config with every auto value chosen from the model's and the data's size; logs one line per choice."""
    from lab.train.modeling import load_tokenizer
    from lab.train.recipe import MAX_AUTO_SEQ_LEN
    from lab.train.replay import load_prompts

    tokenizer = load_tokenizer(base)
    records = knowledge + skills
    sample = records if len(records) <= SHAPE_SAMPLE else random.Random(config.seed).sample(records, SHAPE_SAMPLE)
    lengths = [len(tokenize_messages(tokenizer, r["messages"], config.max_seq_len or MAX_AUTO_SEQ_LEN).input_ids) for r in sample]
    if config.mode == "stacked":
        largest = len(records)
    else:
        largest = max(len(knowledge), len(skills) + replay_count(len(skills), len(knowledge), config.replay_share))
    shape = DataShape(n_samples=largest, mean_tokens=sum(lengths) / len(lengths), max_tokens=max(lengths),
                      n_file_samples=min(len(x) for x in (knowledge, skills) if x))
    resolved, decisions = choose_recipe(config, _count_parameters(base), shape, len(load_prompts()))
    for decision in decisions:
        if log:
            log(decision.line())
    return resolved


def _self_replay(model: Any, tokenizer: Any, runtime: Any, config: TrainConfig, phases: list[Phase], out: Path,
                 base: str, d: distributed.Dist, options: RunOptions) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    """The base model's answers to general prompts, split (training, held-out). Generated before the first
    step and kept in `out`, so a resumed run replays the same answers."""
    if not config.self_replay or not phases:
        return [], []
    path = out / REPLAY_FILE
    records = read_messages(path) if path.is_file() else _replay_answers(model, tokenizer, runtime, config, phases, base,
                                                                          d, options)
    if d.main and not path.is_file():
        write_messages(path, records)
    return split_heldout(records, config.heldout_share or 0.0, config.seed + 13)


def _replay_answers(model: Any, tokenizer: Any, runtime: Any, config: TrainConfig, phases: list[Phase], base: str,
                    d: distributed.Dist, options: RunOptions) -> list[dict[str, Any]]:
    """The base model's greedy answers, from the replay cache when this base answered the same prompts before
    (a preview and the retrain after it, or the next retrain over the same release)."""
    from lab.generate.cache import default_cache_dir
    from lab.train.replay import (
        generate_replay,
        load_prompts,
        pick_prompts,
        read_cached_replay,
        replay_key,
        system_prompt_of,
        write_cached_replay,
    )

    prompts = pick_prompts(load_prompts(), config.self_replay or 0, config.seed)
    system = system_prompt_of(list(phases[0].samples))
    cache = default_cache_dir() / REPLAY_CACHE
    key = replay_key(base, prompts, system, config.self_replay_max_new_tokens)
    cached = read_cached_replay(cache, key)
    if cached is not None:
        if d.main:
            options.log(f"self-replay: the base model's answers to {len(prompts)} general prompts, from the cache")
        return cached
    if d.main:
        options.log(f"self-replay: the base model answers {len(prompts)} general prompts (greedy, at most "
                    f"{config.self_replay_max_new_tokens} tokens each)")
    records = generate_replay(model, tokenizer, runtime.device, prompts, system, config.self_replay_max_new_tokens)
    if d.main:
        write_cached_replay(cache, key, records)
    return records


def _write_final(model: Any, tokenizer: Any, out: Path) -> Path:
    """A plain Hugging Face model dir (LoRA merged) with the tokenizer and chat template, written atomically."""
    final, tmp = out / "final", out / ".tmp-final"
    shutil.rmtree(tmp, ignore_errors=True)
    plain = model.merge_and_unload() if hasattr(model, "peft_config") else model
    plain = plain.float()
    plain.config.use_cache = True
    plain.save_pretrained(tmp)
    tokenizer.save_pretrained(tmp)
    shutil.rmtree(final, ignore_errors=True)
    os.replace(tmp, final)
    return final


def train(data_dir: str | Path, base: str, out: str | Path, config: TrainConfig, options: RunOptions | None = None) -> dict[str, Any]:
    """Run (or resume) a whole training run; returns the summary also written to train_summary.json.

    Under `torchrun --nproc_per_node N -m lab.cli train ...` every rank runs this; rank 0 writes."""
    from lab.models.student import resolve_student

    options = options or RunOptions()
    config.validate()
    out = Path(out)
    knowledge, skills = load_data_dir(data_dir)
    base = resolve_student(base, log=options.log)  # a GGUF, the packaged model, a Hub GGUF repo: a plain HF folder
    config = resolve_recipe(config, base, knowledge, skills, options.log if _is_main() else None)
    share = config.heldout_share or 0.0
    knowledge, held_k = split_heldout(knowledge, share, config.seed)
    skills, held_s = split_heldout(skills, share, config.seed + 7)
    phases = mix_phases(knowledge, skills, mode=config.mode, replay_share=config.replay_share,
                        knowledge_epochs=config.knowledge_epochs, skills_epochs=config.skills_epochs, seed=config.seed,
                        heldout_knowledge=held_k, heldout_skills=held_s)
    fingerprint = _fingerprint(phases, base, config)
    d = distributed.setup()
    try:
        return _train(d, data_dir, base, out, config, options, phases, fingerprint, held_k + held_s)
    finally:
        distributed.teardown(d)


def _train(d: distributed.Dist, data_dir: str | Path, base: str, out: Path, config: TrainConfig, options: RunOptions,
           phases: list[Phase], fingerprint: str, heldout: list[dict[str, Any]]) -> dict[str, Any]:
    from lab.train.modeling import check_memory, count_parameters, load_model, load_tokenizer, pick_runtime

    fresh = _check_out(out, fingerprint, options.resume)
    distributed.barrier(d)
    if d.main:
        if fresh:
            _init_out(out, fingerprint)
        write_messages(out / HELDOUT_FILE, heldout)
    distributed.barrier(d)
    runtime = pick_runtime(config, d.local_rank)
    tokenizer = load_tokenizer(base)
    model = load_model(base, config, runtime)
    shards = d.world if d.active and config.distributed == "fsdp" else 1
    needed, free = check_memory(model, config, runtime.device, shards)
    total, trainable = count_parameters(model)
    phases = with_self_replay(phases, *_self_replay(model, tokenizer, runtime, config, phases, out, base, d, options))
    if d.main:
        options.log(f"training {config.method} on {runtime.device} ({runtime.compute_dtype}, attention "
                    f"{runtime.attn_implementation}) x{d.world}, {trainable:,}/"
                    f"{total:,} parameters trainable, memory estimate {needed / 2**30:.2f} GiB of {free / 2**30:.1f} GiB free")
    sharded = d.active and config.distributed == "fsdp"
    run = Run(config, runtime, model, tokenizer, options, out, [p.name for p in phases], d,
              distributed.wrap(model, runtime, d, config.distributed), sharded,
              deadline=time.monotonic() + options.time_limit_s if options.time_limit_s else None)
    summaries: dict[str, Any] = {}
    previous: Path | None = None
    for index, phase in enumerate(phases):
        summaries[phase.name] = run_phase(run, index, phase, previous)
        distributed.barrier(d)
        previous = ckpt.latest_checkpoint(out / phase.name)
        if run.timed_out:  # the time limit ended this phase: the later ones are skipped
            break
    assert previous is not None
    if not d.main:
        return {"phases": summaries, "rank": d.rank}
    if sharded:  # the checkpoint holds the full weights: rebuild a plain model from it
        from transformers import AutoModelForCausalLM

        model = AutoModelForCausalLM.from_pretrained(previous / "model")
    else:
        ckpt.load_weights(model, previous)  # the selected checkpoint of the last phase, whatever ran in this process
    final = _write_final(model, tokenizer, out)
    summary = {
        "base": str(base), "method": config.method, "mode": config.mode, "device": str(runtime.device), "world_size": d.world,
        "dtype": str(runtime.compute_dtype).replace("torch.", ""), "attention": runtime.attn_implementation,
        "boundaries": runtime.boundaries, "parameters": total, "trainable_parameters": trainable,
        "phases": summaries, "heldout_samples": len(heldout), "final": str(final),
        "tokens_per_s_this_process": round(run.tokens / run.seconds, 1) if run.seconds else None,
        "config": config.to_dict(),
    }
    (out / SUMMARY_FILE).write_text(json.dumps(summary, indent=2), encoding="utf-8")
    return summary
