"""The held-out side of training: the steps that measure it, its packed batches, its loss, and early
stopping on it (the phase keeps the step with the lowest held-out loss)."""

from __future__ import annotations

from typing import Any

from lab.train.packing import first_fit_decreasing, pack_row
from lab.train.tokenize import tokenize_records


def eval_steps_of(total_steps: int, planned_steps: int, epochs: int) -> set[int]:
    """Optimizer steps that end an epoch (and the last step): where the held-out loss is measured."""
    ends = {min(total_steps, max(1, round(planned_steps * e / epochs))) for e in range(1, epochs + 1)}
    return ends | {total_steps}


def early_stopping(es: dict[str, Any], val: float | None, step: int, patience: int) -> tuple[bool, bool]:
    """Record a held-out loss in `es`; (improved, stop): stop after `patience` evaluations without a better one."""
    if val is None:
        return False, False
    if es.get("best") is None or val < es["best"]:
        es.update(best=val, best_step=step, bad=0)
        return True, False
    es["bad"] = es.get("bad", 0) + 1
    return False, patience > 0 and es["bad"] >= patience


def validation_batches(tokenizer: Any, records: tuple[dict[str, Any], ...], max_seq_len: int, row_tokens: int,
                       rows_per_batch: int) -> list[list[Any]]:
    """The held-out samples packed into micro-batches the way training packs (no shuffling)."""
    if not records:
        return []
    samples, _ = tokenize_records(tokenizer, list(records), max_seq_len)
    rows = [pack_row([samples[i] for i in row])
            for row in first_fit_decreasing([len(s.input_ids) for s in samples], row_tokens)]
    return [rows[i : i + rows_per_batch] for i in range(0, len(rows), rows_per_batch)]


def validation_loss(forward: Any, model: Any, batches: list[list[Any]], runtime: Any) -> float:
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
