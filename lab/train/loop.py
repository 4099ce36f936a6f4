"""One training phase, step by step: a plan fixed before the first step, a small state the loop advances.

Read top to bottom like nanoGPT's loop: `plan_phase` tokenises and packs the phase's data,
`start_phase` builds the optimizer and resumes from a checkpoint, then each step is `train_step`
(forward, backward, clip, optimizer), `log_step` (metrics line), `save_step` (checkpoint, and at the
end the lowest held-out loss's weights) until the phase ends, early stopping stops it (lab.train.heldout)
or the run's time limit is reached.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from lab.train import checkpoint as ckpt
from lab.train import distributed
from lab.train.config import TrainConfig
from lab.train.data import Phase
from lab.train.heldout import early_stopping, eval_steps_of, validation_batches, validation_loss
from lab.train.packing import non_padding_share, pack_row, packing_efficiency, plan_micro_batches
from lab.train.recipe import peak_lr
from lab.train.schedule import append_metrics, make_scheduler, peak_flops, truncate_metrics
from lab.train.tokenize import tokenize_records

METRICS_FILE = "metrics.jsonl"


class StopRequested(Exception):
    """Raised by the debug option `stop_after_steps`: the process stops as abruptly as a kill would."""


@dataclass
class RunOptions:
    resume: bool = False
    stop_after_steps: int | None = None  # debug: stop (no checkpoint) after this many steps in this process
    step_delay_s: float = 0.0  # debug: sleep per step, so tests can kill a run mid-way
    progress: bool = True
    log: Callable[[str], None] = print
    time_limit_s: float | None = None  # wall-clock bound of the run: the phase running then ends as complete


@dataclass
class Run:
    """What every phase of one training run shares, and the counters its phases advance."""

    config: TrainConfig
    runtime: Any  # lab.train.modeling.Runtime
    model: Any
    tokenizer: Any
    options: RunOptions
    out: Path
    phase_names: list[str]
    dist: distributed.Dist
    forward: Any  # the model as wrapped for DDP/FSDP (the model itself on one process)
    sharded: bool  # FSDP: checkpoints hold gathered full states
    tokens: int = 0  # tokens trained in this process, for the throughput figure
    seconds: float = 0.0
    steps_this_process: int = 0
    deadline: float | None = None  # time.monotonic() at which the run stops (options.time_limit_s)
    timed_out: bool = False  # the deadline passed: later phases are skipped

    def out_of_time(self) -> bool:
        """Whether the deadline passed, agreed by every rank (one late rank stops them all at the same step)."""
        if self.deadline is None:
            return False
        late = 1.0 if time.monotonic() >= self.deadline else 0.0
        self.timed_out = distributed.all_sum(late, self.dist, self.runtime.device) > 0
        return self.timed_out


@dataclass
class PhasePlan:
    """A phase's data, tokenised, packed and scheduled before its first step."""

    name: str
    index: int
    samples: list[Any]  # Tokenized
    plan: list[list[list[int]]]  # micro-batches of packed rows of sample indices
    per_step: int  # micro-batches per optimizer step, over all ranks
    total_steps: int
    held_batches: list[list[Any]]  # the held-out samples, packed
    eval_steps: set[int]  # steps after which the held-out loss is measured
    summary: dict[str, Any]  # what the run summary says of this phase


@dataclass
class PhaseState:
    """What the loop advances from step to step."""

    optimizer: Any
    scheduler: Any
    trainable: list[Any]
    start: int  # the first step this process runs
    latest: Path | None  # the checkpoint resumed from
    es: dict[str, Any]  # early stopping: best held-out loss, its step, evaluations since (saved in checkpoints)
    window_tokens: int = 0  # since the last metrics line
    window_time: float = 0.0
    losses: list[float] = field(default_factory=list)
    final: Path | None = None  # the last checkpoint written


def row_shape(config: TrainConfig, runtime: Any) -> tuple[int, int]:
    """(tokens per packed row, rows per micro-batch). A varlen kernel makes one long row free; with an
    explicit mask, attention costs the square of the row length, so rows stay at max_seq_len."""
    from lab.train.modeling import is_varlen

    if is_varlen(runtime):
        return config.max_tokens_per_micro_batch, 1
    return config.max_seq_len, max(1, config.max_tokens_per_micro_batch // config.max_seq_len)


def plan_phase(run: Run, index: int, phase: Phase) -> PhasePlan:
    """Tokenise and pack the phase's samples, count its steps, and pack its held-out samples."""
    config = run.config
    per_step = config.grad_accum * run.dist.world
    samples, dropped = tokenize_records(run.tokenizer, list(phase.samples), config.max_seq_len)
    if not samples:
        raise ValueError(f"{phase.name}: no sample has an assistant token left after truncation")
    lengths = [len(s.input_ids) for s in samples]
    row_tokens, rows_per_batch = row_shape(config, run.runtime)
    plan = plan_micro_batches(lengths, row_tokens, rows_per_batch, phase.epochs, config.seed + index)
    planned_steps = -(-len(plan) // per_step)
    total_steps = min(planned_steps, config.max_steps) if config.max_steps else planned_steps
    summary = {
        "samples": len(samples), "dropped_truncated": dropped, "counts": phase.counts, "epochs": phase.epochs,
        "steps": total_steps, "micro_batches": len(plan),
        "row_tokens": row_tokens, "rows_per_micro_batch": rows_per_batch,
        "packing_efficiency": round(packing_efficiency(lengths, plan, row_tokens), 4),
        "non_padding_share": round(non_padding_share(lengths, plan), 4),
    }
    held_batches = validation_batches(run.tokenizer, phase.heldout, config.max_seq_len, row_tokens, rows_per_batch)
    evals = eval_steps_of(total_steps, planned_steps, phase.epochs) if held_batches else set()
    return PhasePlan(phase.name, index, samples, plan, per_step, total_steps, held_batches, evals, summary)


def start_phase(run: Run, plan: PhasePlan, previous: Path | None) -> PhaseState:
    """The optimizer and schedule; resumed from the phase's newest checkpoint, else from the previous phase."""
    import torch

    config, model = run.config, run.model
    trainable = [p for p in model.parameters() if p.requires_grad]
    lr = peak_lr(config, sum(p.numel() for p in model.parameters()))
    # one fused kernel on a GPU; on the CPU a loop over parameters (foreach would copy all of them at once)
    fused = run.runtime.device.type == "cuda" and not run.sharded and all(p.dtype == torch.float32 for p in trainable)
    optimizer = torch.optim.AdamW(trainable, lr=lr, weight_decay=config.weight_decay, fused=fused or None,
                                  foreach=None if fused else False)
    scheduler = make_scheduler(optimizer, plan.total_steps, config.warmup_ratio, config.schedule)
    state = PhaseState(optimizer, scheduler, trainable, start=0, latest=None, es={})
    phase_dir = run.out / plan.name
    state.latest = ckpt.latest_checkpoint(phase_dir) if run.options.resume else None
    if state.latest is not None:
        ckpt.load_weights(model, state.latest, run.sharded)
        saved = ckpt.load_training_state(state.latest, optimizer, scheduler, run.runtime.device,
                                         model if run.sharded else None)
        if saved.get("world_size", 1) != run.dist.world:
            raise ValueError(f"{state.latest} was written by {saved.get('world_size', 1)} process(es); "
                             "resume with as many")
        state.start = saved["step"]
        state.es = dict(saved.get("early_stopping") or {})
        if run.dist.main:
            run.options.log(f"{plan.name}: resuming from {state.latest.name}")
    else:
        if previous is not None:  # phase 2 starts from phase 1's selected (final) checkpoint
            ckpt.load_weights(model, previous, run.sharded)
        torch.manual_seed(config.seed + plan.index)
    if run.dist.main:
        truncate_metrics(run.out / METRICS_FILE, run.phase_names, plan.name, state.start)
    return state


def train_step(run: Run, plan: PhasePlan, state: PhaseState, step: int) -> tuple[float, int, float]:
    """One optimizer step over its micro-batches (this rank's share); (global loss, global tokens, lr used)."""
    import torch

    from lab.train.modeling import batch_loss_sum

    d, runtime = run.dist, run.runtime
    indices = list(range(step * plan.per_step, min(len(plan.plan), (step + 1) * plan.per_step)))
    packed = {m: [pack_row([plan.samples[i] for i in row]) for row in plan.plan[m]] for m in indices}
    n_targets = sum(row.n_targets for batch in packed.values() for row in batch)
    step_loss, my_tokens = 0.0, 0
    for m in distributed.my_share(indices, d):
        batch = packed[m if m is not None else indices[0]]
        loss = batch_loss_sum(run.forward, batch, runtime) / max(1, n_targets)
        if m is None:
            loss = loss * 0.0  # a filler pass, so every rank joins the same collectives
        (loss * d.world).backward()  # DDP averages gradients over ranks; the loss is already global
        step_loss += float(loss.detach())
        my_tokens += sum(len(row.input_ids) for row in batch) if m is not None else 0
    step_loss = distributed.all_sum(step_loss, d, runtime.device)
    step_tokens = int(distributed.all_sum(float(my_tokens), d, runtime.device))
    if run.config.max_grad_norm > 0:
        torch.nn.utils.clip_grad_norm_(state.trainable, run.config.max_grad_norm)
    current_lr = state.scheduler.get_last_lr()[0]
    state.optimizer.step()
    state.scheduler.step()
    state.optimizer.zero_grad(set_to_none=True)
    if runtime.device.type == "cuda":
        torch.cuda.synchronize(runtime.device)
    return step_loss, step_tokens, current_lr


def log_step(run: Run, plan: PhasePlan, state: PhaseState, done: int, val: float | None, lr: float,
             flops: tuple[float | None, int]) -> None:
    """A metrics line (and a log line) every log_every_steps, at the phase's end and after each evaluation."""
    config = run.config
    if not run.dist.main or not (done % config.log_every_steps == 0 or done == plan.total_steps or val is not None):
        return
    peak, n_params = flops
    tokens_per_s = state.window_tokens / state.window_time if state.window_time else 0.0
    record = {"step": done, "phase": plan.name, "loss": round(sum(state.losses) / len(state.losses), 6),
              "lr": lr, "tokens_per_s": round(tokens_per_s, 1)}
    if peak:
        record["mfu"] = round(6 * n_params * tokens_per_s / peak, 4)
    if val is not None:
        record["val_loss"] = round(val, 6)
    append_metrics(run.out / METRICS_FILE, record)
    held = f" held-out {val:.4f}" if val is not None else ""
    run.options.log(f"{plan.name} step {done}/{plan.total_steps} loss {record['loss']:.4f}{held} lr {lr:.2e} "
                    f"tok/s {tokens_per_s:.0f}")
    state.window_tokens, state.window_time, state.losses = 0, 0.0, []


def save_step(run: Run, plan: PhasePlan, state: PhaseState, done: int, complete: bool, improved: bool) -> None:
    """A checkpoint every save_every_steps, at the end and at each better held-out loss; at the end the
    lowest held-out loss's weights are put back first, and the state records which step they are."""
    config, d = run.config, run.dist
    if not (done % config.save_every_steps == 0 or complete or improved):
        return
    saved = {"phase": plan.name, "step": done, "total_steps": plan.total_steps, "world_size": d.world,
             "micro_batch_position": min(len(plan.plan), done * plan.per_step), "complete": complete,
             "early_stopping": state.es}
    if complete:
        saved["selected_step"] = select_best(run, plan.name, state.es, done)
    full = distributed.full_states(run.model, state.optimizer) if run.sharded else None
    if d.main:
        state.final = ckpt.save_checkpoint(run.out / plan.name, done, run.model, state.optimizer, state.scheduler,
                                           saved, config.keep_checkpoints, full, protect=state.es.get("best_step"))
    distributed.barrier(d)


def select_best(run: Run, name: str, es: dict[str, Any], step: int) -> int:
    """At a phase's end, put the weights of the lowest held-out loss back into the model; returns their step."""
    best = es.get("best_step")
    if best is None or best == step:
        return step
    ckpt.load_weights(run.model, run.out / name / f"checkpoint-{best}", run.sharded)
    if run.dist.main:
        run.options.log(f"{name}: keeping step {best} (held-out loss {es['best']:.4f}, the lowest)")
    return int(best)


def _progress(total: int, initial: int, desc: str, enabled: bool) -> Any:
    from tqdm.auto import tqdm

    return tqdm(total=total, initial=initial, desc=desc, unit="step", disable=not enabled, leave=False)


def run_phase(run: Run, index: int, phase: Phase, previous: Path | None) -> dict[str, Any]:
    """Train one phase (resuming if it has a checkpoint) and return its summary."""
    plan = plan_phase(run, index, phase)
    state = start_phase(run, plan, previous)
    if state.start >= plan.total_steps or (state.latest is not None and ckpt.read_state(state.latest).get("complete")):
        return plan.summary | {"checkpoint": str(state.latest)}
    run.model.train()
    flops = (peak_flops(run.runtime.device), sum(p.numel() for p in run.model.parameters()))
    bar = _progress(plan.total_steps, state.start, plan.name, run.options.progress and run.dist.main)
    summary = dict(plan.summary)
    for step in range(state.start, plan.total_steps):
        began = time.perf_counter()
        loss, tokens, lr = train_step(run, plan, state, step)
        elapsed = time.perf_counter() - began
        state.window_tokens += tokens
        state.window_time += elapsed
        state.losses.append(loss)
        run.tokens += tokens
        run.seconds += elapsed
        done = step + 1
        val = validation_loss(run.forward, run.model, plan.held_batches, run.runtime) if done in plan.eval_steps else None
        improved, stop = early_stopping(state.es, val, done, run.config.early_stopping_patience or 0)
        timed_out = done < plan.total_steps and not stop and run.out_of_time()
        log_step(run, plan, state, done, val, lr, flops)
        save_step(run, plan, state, done, done == plan.total_steps or stop or timed_out, improved)
        bar.update(1)
        if stop or timed_out:
            summary["stopped_early_at_step" if stop else "stopped_at_time_limit"] = done
            break
        _after_step(run, bar, done, plan.total_steps)
    bar.close()
    return summary | {"checkpoint": str(state.final), "best_heldout_loss": state.es.get("best"),
                      "selected_step": state.es.get("best_step")}


def _after_step(run: Run, bar: Any, done: int, total_steps: int) -> None:
    """The debug options: stop this process after N steps (as a kill would), or slow each step down."""
    run.steps_this_process += 1
    options = run.options
    if options.stop_after_steps is not None and run.steps_this_process >= options.stop_after_steps and done < total_steps:
        bar.close()
        raise StopRequested(f"stopped after {run.steps_this_process} steps (debug option)")
    if options.step_delay_s:
        time.sleep(options.step_delay_s)
