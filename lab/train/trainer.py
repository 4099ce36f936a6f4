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
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from lab.train import checkpoint as ckpt
from lab.train import distributed
from lab.train.config import TrainConfig
from lab.train.data import (
    HELDOUT_FILE,
    Phase,
    load_data_dir,
    mix_phases,
    read_messages,
    replay_count,
    split_heldout,
    with_self_replay,
    write_messages,
)
from lab.train.packing import (
    first_fit_decreasing,
    non_padding_share,
    pack_row,
    packing_efficiency,
    plan_micro_batches,
)
from lab.train.recipe import DataShape, choose_recipe
from lab.train.schedule import append_metrics, make_scheduler, peak_flops, truncate_metrics
from lab.train.tokenize import tokenize_messages, tokenize_records

METRICS_FILE = "metrics.jsonl"
SUMMARY_FILE = "train_summary.json"
RUN_FILE = "run.json"
REPLAY_FILE = "self_replay_msgs.jsonl"  # the base model's general answers replayed in every phase
SHAPE_SAMPLE = 2000  # records tokenised to measure the data for the recipe


class StopRequested(Exception):
    """Raised by the debug option `stop_after_steps`: the process stops as abruptly as a kill would."""


@dataclass
class RunOptions:
    resume: bool = False
    stop_after_steps: int | None = None  # debug: stop (no checkpoint) after this many steps in this process
    step_delay_s: float = 0.0  # debug: sleep per step, so tests can kill a run mid-way
    progress: bool = True
    log: Callable[[str], None] = print


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


def _progress(total: int, initial: int, desc: str, enabled: bool) -> Any:
    from tqdm.auto import tqdm

    return tqdm(total=total, initial=initial, desc=desc, unit="step", disable=not enabled, leave=False)


def _run_phase(ctx: dict[str, Any], index: int, phase: Phase, previous: Path | None) -> dict[str, Any]:
    """Train one phase (resuming if it has a checkpoint) and return its summary."""
    import torch

    from lab.train.modeling import batch_loss_sum

    config: TrainConfig = ctx["config"]
    runtime, model, tokenizer, options, out = ctx["runtime"], ctx["model"], ctx["tokenizer"], ctx["options"], ctx["out"]
    d: distributed.Dist = ctx["dist"]
    forward, sharded = ctx["forward"], ctx["sharded"]
    per_step = config.grad_accum * d.world
    phase_dir = out / phase.name
    samples, dropped = tokenize_records(tokenizer, list(phase.samples), config.max_seq_len)
    if not samples:
        raise ValueError(f"{phase.name}: no sample has an assistant token left after truncation")
    lengths = [len(s.input_ids) for s in samples]
    row_tokens, rows_per_batch = _row_shape(config, runtime)
    plan = plan_micro_batches(lengths, row_tokens, rows_per_batch, phase.epochs, config.seed + index)
    total_steps = -(-len(plan) // per_step)
    if config.max_steps:
        total_steps = min(total_steps, config.max_steps)
    summary = {
        "samples": len(samples), "dropped_truncated": dropped, "counts": phase.counts, "epochs": phase.epochs,
        "steps": total_steps, "micro_batches": len(plan),
        "row_tokens": row_tokens, "rows_per_micro_batch": rows_per_batch,
        "packing_efficiency": round(packing_efficiency(lengths, plan, row_tokens), 4),
        "non_padding_share": round(non_padding_share(lengths, plan), 4),
    }
    held_batches = _validation_batches(tokenizer, phase.heldout, config, runtime)
    eval_steps = _eval_steps(total_steps, -(-len(plan) // per_step), phase.epochs) if held_batches else set()
    es: dict[str, Any] = {}  # early stopping: best held-out loss, its step, evaluations since
    trainable = [p for p in model.parameters() if p.requires_grad]
    lr = config.peak_lr(sum(p.numel() for p in model.parameters()))
    optimizer = torch.optim.AdamW(trainable, lr=lr, weight_decay=config.weight_decay, foreach=False)
    scheduler = make_scheduler(optimizer, total_steps, config.warmup_ratio, config.schedule)
    start = 0
    latest = ckpt.latest_checkpoint(phase_dir) if options.resume else None
    if latest is not None:
        ckpt.load_weights(model, latest, sharded)
        saved = ckpt.load_training_state(latest, optimizer, scheduler, runtime.device, model if sharded else None)
        if saved.get("world_size", 1) != d.world:
            raise ValueError(f"{latest} was written by {saved.get('world_size', 1)} process(es); resume with as many")
        start = saved["step"]
        es = dict(saved.get("early_stopping") or {})
        if d.main:
            options.log(f"{phase.name}: resuming from {latest.name}")
    else:
        if previous is not None:  # phase 2 starts from phase 1's selected (final) checkpoint
            ckpt.load_weights(model, previous, sharded)
        torch.manual_seed(config.seed + index)
    if d.main:
        truncate_metrics(out / METRICS_FILE, ctx["phase_names"], phase.name, start)
    if start >= total_steps or (latest is not None and ckpt.read_state(latest).get("complete")):
        return summary | {"checkpoint": str(latest)}
    model.train()
    peak = peak_flops(runtime.device)
    n_params = sum(p.numel() for p in model.parameters())
    window_tokens, window_time, losses = 0, 0.0, []
    bar = _progress(total_steps, start, phase.name, options.progress and d.main)
    final = None
    for step in range(start, total_steps):
        began = time.perf_counter()
        indices = list(range(step * per_step, min(len(plan), (step + 1) * per_step)))
        packed = {m: [pack_row([samples[i] for i in row]) for row in plan[m]] for m in indices}
        n_targets = sum(row.n_targets for batch in packed.values() for row in batch)
        step_loss = 0.0
        my_tokens = 0
        for m in distributed.my_share(indices, d):
            batch = packed[m if m is not None else indices[0]]
            loss = batch_loss_sum(forward, batch, runtime) / max(1, n_targets)
            if m is None:
                loss = loss * 0.0  # a filler pass, so every rank joins the same collectives
            (loss * d.world).backward()  # DDP averages gradients over ranks; the loss is already global
            step_loss += float(loss.detach())
            my_tokens += sum(len(row.input_ids) for row in batch) if m is not None else 0
        step_loss = distributed.all_sum(step_loss, d, runtime.device)
        step_tokens = int(distributed.all_sum(float(my_tokens), d, runtime.device))
        if config.max_grad_norm > 0:
            torch.nn.utils.clip_grad_norm_(trainable, config.max_grad_norm)
        current_lr = scheduler.get_last_lr()[0]
        optimizer.step()
        scheduler.step()
        optimizer.zero_grad(set_to_none=True)
        if runtime.device.type == "cuda":
            torch.cuda.synchronize(runtime.device)
        elapsed = time.perf_counter() - began
        window_tokens += step_tokens
        window_time += elapsed
        losses.append(step_loss)
        ctx["tokens"] += step_tokens
        ctx["seconds"] += elapsed
        done = step + 1
        val = _validation_loss(forward, model, held_batches, runtime) if done in eval_steps else None
        improved, stop = _early_stopping(es, val, done, config.early_stopping_patience or 0)
        if d.main and (done % config.log_every_steps == 0 or done == total_steps or val is not None):
            tokens_per_s = window_tokens / window_time if window_time else 0.0
            record = {"step": done, "phase": phase.name, "loss": round(sum(losses) / len(losses), 6),
                      "lr": current_lr, "tokens_per_s": round(tokens_per_s, 1)}
            if peak:
                record["mfu"] = round(6 * n_params * tokens_per_s / peak, 4)
            if val is not None:
                record["val_loss"] = round(val, 6)
            append_metrics(out / METRICS_FILE, record)
            held = f" held-out {val:.4f}" if val is not None else ""
            options.log(f"{phase.name} step {done}/{total_steps} loss {record['loss']:.4f}{held} lr {current_lr:.2e} tok/s {tokens_per_s:.0f}")
            window_tokens, window_time, losses = 0, 0.0, []
        complete = done == total_steps or stop
        if done % config.save_every_steps == 0 or complete or improved:
            state = {"phase": phase.name, "step": done, "total_steps": total_steps, "world_size": d.world,
                     "micro_batch_position": min(len(plan), done * per_step), "complete": complete, "early_stopping": es}
            if complete:
                state["selected_step"] = _select_best(model, phase_dir, es, done, sharded, phase.name, options.log if d.main else None)
            full = distributed.full_states(model, optimizer) if sharded else None
            if d.main:
                final = ckpt.save_checkpoint(phase_dir, done, model, optimizer, scheduler, state, config.keep_checkpoints, full,
                                             protect=es.get("best_step"))
            distributed.barrier(d)
        bar.update(1)
        if stop:
            summary |= {"stopped_early_at_step": done}
            break
        ctx["steps_this_process"] += 1
        if options.stop_after_steps is not None and ctx["steps_this_process"] >= options.stop_after_steps and done < total_steps:
            bar.close()
            raise StopRequested(f"stopped after {ctx['steps_this_process']} steps (debug option)")
        if options.step_delay_s:
            time.sleep(options.step_delay_s)
    bar.close()
    return summary | {"checkpoint": str(final), "best_heldout_loss": es.get("best"), "selected_step": es.get("best_step")}


def _eval_steps(total_steps: int, planned_steps: int, epochs: int) -> set[int]:
    """Optimizer steps that end an epoch (and the last step): where the held-out loss is measured."""
    ends = {min(total_steps, max(1, round(planned_steps * e / epochs))) for e in range(1, epochs + 1)}
    return ends | {total_steps}


def _validation_batches(tokenizer: Any, records: tuple[dict[str, Any], ...], config: TrainConfig, runtime: Any) -> list[list[Any]]:
    """The held-out samples packed into micro-batches the way training packs (no shuffling)."""
    if not records:
        return []
    samples, _ = tokenize_records(tokenizer, list(records), config.max_seq_len)
    row_tokens, rows_per_batch = _row_shape(config, runtime)
    rows = [pack_row([samples[i] for i in row]) for row in first_fit_decreasing([len(s.input_ids) for s in samples], row_tokens)]
    return [rows[i : i + rows_per_batch] for i in range(0, len(rows), rows_per_batch)]


def _validation_loss(forward: Any, model: Any, batches: list[list[Any]], runtime: Any) -> float:
    """Mean cross-entropy per assistant token of the held-out micro-batches (every rank computes all)."""
    import torch

    from lab.train.modeling import batch_loss_sum

    model.eval()
    total, count = 0.0, 0
    with torch.no_grad():
        for batch in batches:
            total += float(batch_loss_sum(forward, batch, runtime))
            count += sum(row.n_targets for row in batch)
    model.train()
    return total / max(1, count)


def _early_stopping(es: dict[str, Any], val: float | None, step: int, patience: int) -> tuple[bool, bool]:
    """Record a held-out loss in `es`; (improved, stop): stop after `patience` evaluations without a better one."""
    if val is None:
        return False, False
    if es.get("best") is None or val < es["best"]:
        es.update(best=val, best_step=step, bad=0)
        return True, False
    es["bad"] = es.get("bad", 0) + 1
    return False, patience > 0 and es["bad"] >= patience


def _select_best(model: Any, phase_dir: Path, es: dict[str, Any], step: int, sharded: bool, name: str,
                 log: Callable[[str], None] | None) -> int:
    """At a phase's end, put the weights of the lowest held-out loss back into `model`; returns their step."""
    best = es.get("best_step")
    if best is None or best == step:
        return step
    ckpt.load_weights(model, phase_dir / f"checkpoint-{best}", sharded)
    if log:
        log(f"{name}: keeping step {best} (held-out loss {es['best']:.4f}, the lowest)")
    return int(best)


def _is_main() -> bool:
    return os.environ.get("RANK", "0") == "0"


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
                 d: distributed.Dist, options: RunOptions) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    """The base model's answers to general prompts, split (training, held-out). Generated before the first
    step and kept in `out`, so a resumed run replays the same answers."""
    from lab.train.replay import generate_replay, load_prompts, pick_prompts, system_prompt_of

    if not config.self_replay or not phases:
        return [], []
    path = out / REPLAY_FILE
    if path.is_file():
        records = read_messages(path)
    else:
        prompts = pick_prompts(load_prompts(), config.self_replay, config.seed)
        if d.main:
            options.log(f"self-replay: the base model answers {len(prompts)} general prompts (greedy, at most "
                        f"{config.self_replay_max_new_tokens} tokens each)")
        records = generate_replay(model, tokenizer, runtime.device, prompts, system_prompt_of(list(phases[0].samples)),
                                  config.self_replay_max_new_tokens)
        if d.main:
            write_messages(path, records)
    return split_heldout(records, config.heldout_share or 0.0, config.seed + 13)


def _row_shape(config: TrainConfig, runtime: Any) -> tuple[int, int]:
    """(tokens per packed row, rows per micro-batch). A varlen kernel makes one long row free; with an
    explicit mask, attention costs the square of the row length, so rows stay at max_seq_len."""
    if runtime.boundaries == "position_ids" and runtime.attn_implementation == "flash_attention_2":
        return config.max_tokens_per_micro_batch, 1
    return config.max_seq_len, max(1, config.max_tokens_per_micro_batch // config.max_seq_len)


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
    phases = with_self_replay(phases, *_self_replay(model, tokenizer, runtime, config, phases, out, d, options))
    if d.main:
        options.log(f"training {config.method} on {runtime.device} ({runtime.compute_dtype}) x{d.world}, {trainable:,}/"
                    f"{total:,} parameters trainable, memory estimate {needed / 2**30:.2f} GiB of {free / 2**30:.1f} GiB free")
    ctx = {"config": config, "runtime": runtime, "model": model, "tokenizer": tokenizer, "options": options,
           "out": out, "phase_names": [p.name for p in phases], "tokens": 0, "seconds": 0.0, "steps_this_process": 0,
           "dist": d, "forward": distributed.wrap(model, runtime, d, config.distributed),
           "sharded": d.active and config.distributed == "fsdp"}
    summaries: dict[str, Any] = {}
    previous: Path | None = None
    for index, phase in enumerate(phases):
        summaries[phase.name] = _run_phase(ctx, index, phase, previous)
        distributed.barrier(d)
        previous = ckpt.latest_checkpoint(out / phase.name)
    assert previous is not None
    if not d.main:
        return {"phases": summaries, "rank": d.rank}
    if ctx["sharded"]:  # the checkpoint holds the full weights: rebuild a plain model from it
        from transformers import AutoModelForCausalLM

        model = AutoModelForCausalLM.from_pretrained(previous / "model")
    else:
        ckpt.load_weights(model, previous)  # the selected checkpoint of the last phase, whatever ran in this process
    final = _write_final(model, tokenizer, out)
    summary = {
        "base": str(base), "method": config.method, "mode": config.mode, "device": str(runtime.device), "world_size": d.world,
        "dtype": str(runtime.compute_dtype).replace("torch.", ""), "parameters": total, "trainable_parameters": trainable,
        "phases": summaries, "heldout_samples": len(heldout), "final": str(final),
        "tokens_per_s_this_process": round(ctx["tokens"] / ctx["seconds"], 1) if ctx["seconds"] else None,
        "config": config.to_dict(),
    }
    (out / SUMMARY_FILE).write_text(json.dumps(summary, indent=2), encoding="utf-8")
    return summary
