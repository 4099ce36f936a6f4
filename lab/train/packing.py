"""Multipack-style sequence packing: samples go into micro-batches of at most a token budget.

Bins are filled first-fit-decreasing (lengths sorted longest first, each sample into the first bin
with room), which leaves bins nearly full, so almost no compute goes to padding. A micro-batch is a few
packed rows (one long row where a varlen attention kernel makes long rows cheap). A packed row keeps
its samples apart: position ids restart at 0 for each sample, a block-diagonal causal mask (or a
varlen attention kernel fed those position ids) stops attention across samples, and no target is
taken across a boundary. Everything here is plain Python on lists, so it is cheap to test.
"""

from __future__ import annotations

import random
from dataclasses import dataclass

from lab.train.tokenize import IGNORE, Tokenized


@dataclass(frozen=True)
class PackedRow:
    """One micro-batch as a single packed row."""

    input_ids: list[int]
    position_ids: list[int]
    targets: list[int]  # already shifted: targets[t] is the label of token t+1, IGNORE across boundaries
    lengths: list[int]  # sample lengths in order, for the block-diagonal mask

    @property
    def n_targets(self) -> int:
        return sum(1 for t in self.targets if t != IGNORE)


def first_fit_decreasing(lengths: list[int], capacity: int, order: list[int] | None = None) -> list[list[int]]:
    """Indices grouped into bins whose summed length is at most `capacity`; longer items get a bin alone."""
    order = list(range(len(lengths))) if order is None else order
    ranked = sorted(order, key=lambda i: -lengths[i])  # stable: ties keep `order`
    bins: list[list[int]] = []
    room: list[int] = []
    for index in ranked:
        size = lengths[index]
        for b, free in enumerate(room):
            if size <= free:
                bins[b].append(index)
                room[b] -= size
                break
        else:
            bins.append([index])
            room.append(capacity - size)
    return bins


def plan_micro_batches(lengths: list[int], row_tokens: int, rows_per_batch: int, epochs: int, seed: int) -> list[list[list[int]]]:
    """The whole phase's micro-batches, epoch after epoch: each a list of packed rows (lists of sample indices).

    Samples are packed into rows of at most `row_tokens` (first-fit-decreasing), rows are shuffled per
    epoch (seeded) and grouped `rows_per_batch` to a micro-batch. The plan is a pure function of its
    inputs, so a resumed run rebuilds it and continues at the saved position.
    """
    plan: list[list[list[int]]] = []
    for epoch in range(epochs):
        rng = random.Random(seed * 1_000_003 + epoch)
        order = list(range(len(lengths)))
        rng.shuffle(order)
        rows = first_fit_decreasing(lengths, row_tokens, order)
        rng.shuffle(rows)
        plan.extend(rows[i : i + rows_per_batch] for i in range(0, len(rows), rows_per_batch))
    return plan


def pack_row(samples: list[Tokenized]) -> PackedRow:
    """Concatenate samples into one row with restarting positions and boundary-safe targets."""
    ids: list[int] = []
    positions: list[int] = []
    targets: list[int] = []
    for sample in samples:
        n = len(sample.input_ids)
        ids.extend(sample.input_ids)
        positions.extend(range(n))
        targets.extend(sample.labels[1:] + [IGNORE])  # the last token predicts nothing in this sample
    return PackedRow(ids, positions, targets, [len(s.input_ids) for s in samples])


def packing_efficiency(lengths: list[int], plan: list[list[list[int]]], row_tokens: int) -> float:
    """Share of the planned rows' capacity that holds real tokens (bin fill; 1.0 = every row full)."""
    rows = [row for batch in plan for row in batch]
    if not rows:
        return 0.0
    return sum(lengths[i] for row in rows for i in row) / (len(rows) * row_tokens)


def non_padding_share(lengths: list[int], plan: list[list[list[int]]]) -> float:
    """Share of computed tokens that are real: rows of a micro-batch are padded to its longest row."""
    real = computed = 0
    for batch in plan:
        sizes = [sum(lengths[i] for i in row) for row in batch]
        real += sum(sizes)
        computed += max(sizes, default=0) * len(sizes)
    return real / computed if computed else 0.0


def padded_efficiency(lengths: list[int], batch_size: int) -> float:
    """The same share for the usual padded batches: each batch padded to its longest sample."""
    total = padded = 0
    for start in range(0, len(lengths), batch_size):
        chunk = lengths[start : start + batch_size]
        total += sum(chunk)
        padded += max(chunk) * len(chunk)
    return total / padded if padded else 0.0
