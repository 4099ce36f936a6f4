"""Packing: bins respect the budget, every sample is used once, padding is near zero, boundaries hold."""

from __future__ import annotations

import random

import pytest

from lab.train.packing import (
    first_fit_decreasing,
    non_padding_share,
    pack_row,
    packing_efficiency,
    padded_efficiency,
    plan_micro_batches,
)
from lab.train.tokenize import IGNORE, Tokenized


def test_bins_stay_within_budget_and_hold_every_sample_once():
    rng = random.Random(0)
    lengths = [rng.randint(20, 400) for _ in range(500)]
    bins = first_fit_decreasing(lengths, 1024)
    assert sorted(i for b in bins for i in b) == list(range(500))
    assert all(sum(lengths[i] for i in b) <= 1024 for b in bins)


def test_packing_fills_at_least_95_percent_where_padding_wastes_far_more():
    rng = random.Random(1)
    lengths = [rng.randint(30, 500) for _ in range(400)]
    plan = plan_micro_batches(lengths, 1024, rows_per_batch=2, epochs=1, seed=0)
    assert packing_efficiency(lengths, plan, 1024) >= 0.95
    assert non_padding_share(lengths, plan) >= 0.95
    assert padded_efficiency(lengths, batch_size=8) < 0.8


def test_plan_is_deterministic_and_reshuffled_per_epoch():
    rng = random.Random(2)
    lengths = [rng.randint(10, 100) for _ in range(50)]
    a = plan_micro_batches(lengths, 256, 2, epochs=2, seed=5)
    assert a == plan_micro_batches(lengths, 256, 2, epochs=2, seed=5)
    assert a != plan_micro_batches(lengths, 256, 2, epochs=2, seed=6)
    assert sorted(i for b in a for row in b for i in row) == sorted(list(range(50)) * 2)
    assert all(1 <= len(b) <= 2 for b in a)


def test_targets_never_cross_a_sample_boundary():
    a = Tokenized([1, 2, 3], [IGNORE, 2, 3])
    b = Tokenized([4, 5, 6, 7], [IGNORE, IGNORE, 6, 7])
    row = pack_row([a, b])
    assert row.position_ids == [0, 1, 2, 0, 1, 2, 3]
    assert row.targets == [2, 3, IGNORE, IGNORE, 6, 7, IGNORE]
    assert row.n_targets == 4


@pytest.mark.parametrize("boundaries", ["mask4d", "position_ids"])
def test_packed_sample_logits_equal_the_sample_run_alone(tiny_llama_dir, boundaries):
    import torch
    from transformers import AutoTokenizer

    from lab.train.config import TrainConfig
    from lab.train.modeling import load_model, pick_runtime, row_logits
    from lab.train.tokenize import tokenize_messages

    config = TrainConfig(cpu_threads=1, boundaries=boundaries)
    runtime = pick_runtime(config)
    model = load_model(str(tiny_llama_dir), config, runtime).eval()
    tokenizer = AutoTokenizer.from_pretrained(tiny_llama_dir)
    convs = [
        [{"role": "user", "content": "What is the capital of France?"}, {"role": "assistant", "content": "Paris."}],
        [{"role": "system", "content": "Be kind."}, {"role": "user", "content": "Spider legs?"}, {"role": "assistant", "content": "Eight."}],
        [{"role": "user", "content": "Sky?"}, {"role": "assistant", "content": "Blue, by Rayleigh scattering."}],
    ]
    samples = [tokenize_messages(tokenizer, c, 256) for c in convs]
    with torch.no_grad():
        packed = row_logits(model, pack_row(samples), runtime)[0]
        alone = torch.cat([row_logits(model, pack_row([s]), runtime)[0] for s in samples])
        # control: the same tokens as one plain causal sequence do see their neighbours
        ids = [t for s in samples for t in s.input_ids]
        plain = model(input_ids=torch.tensor([ids])).logits[0]
    assert torch.allclose(packed, alone, atol=1e-5)
    second = slice(len(samples[0].input_ids), len(ids))
    assert not torch.allclose(plain[second], alone[second], atol=1e-3)
    # several rows in one micro-batch, padded to the longest: each row still equals its samples alone
    from lab.train.modeling import batch_logits

    with torch.no_grad():
        logits, _ = batch_logits(model, [pack_row(samples[:1]), pack_row(samples[1:])], runtime)
    n0 = len(samples[0].input_ids)
    assert torch.allclose(logits[0, :n0], alone[:n0], atol=1e-5)
    assert torch.allclose(logits[1, : len(ids) - n0], alone[n0:], atol=1e-5)
