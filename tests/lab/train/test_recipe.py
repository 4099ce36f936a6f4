"""The default recipe: every auto value is chosen from the model's and the data's size, with a reason."""

from __future__ import annotations

from lab.train.config import TrainConfig
from lab.train.packing import plan_micro_batches
from lab.train.recipe import DataShape, choose_recipe

QA = DataShape(n_samples=80, mean_tokens=45.0, max_tokens=70, n_file_samples=80)  # a small knowledge leaf
SMALL, LARGE = 135_000_000, 7_000_000_000


def _choose(config: TrainConfig | None = None, n_params: int = SMALL, shape: DataShape = QA):
    resolved, decisions = choose_recipe(config or TrainConfig(), n_params, shape, n_prompts=64)
    return resolved, {d.key: d for d in decisions}


def test_a_small_pretrained_model_gets_full_tuning_replay_early_stopping_and_every_choice_explained():
    resolved, decisions = _choose()
    assert resolved.method == "full" and resolved.lr is not None and resolved.lr > 2e-5
    assert resolved.self_replay and 16 <= resolved.self_replay <= 64
    assert resolved.heldout_share and resolved.heldout_share > 0 and resolved.early_stopping_patience
    assert resolved.max_seq_len >= QA.max_tokens and resolved.max_seq_len >= resolved.self_replay_max_new_tokens
    assert resolved.max_seq_len <= 256  # short Q&A rows are not padded to 1024
    for key in ("method", "lr", "max_seq_len", "max_tokens_per_micro_batch", "epochs", "heldout_share", "self_replay"):
        line = decisions[key].line()
        assert line.startswith(f"recipe: {key} = ") and "(" in line and len(decisions[key].reason) > 10


def test_small_data_gets_small_batches_and_enough_updates_to_learn():
    resolved, _ = _choose()
    lengths = [int(QA.mean_tokens)] * (QA.n_samples + resolved.self_replay)
    rows_per_batch = resolved.max_tokens_per_micro_batch // resolved.max_seq_len
    plan = plan_micro_batches(lengths, resolved.max_seq_len, rows_per_batch, resolved.knowledge_epochs, seed=0)
    assert len(lengths) * resolved.knowledge_epochs / len(plan) <= 16  # samples per update; the 6-step run packed ~60
    assert len(plan) >= 60 and 3 <= resolved.knowledge_epochs <= 8


def test_more_data_gets_larger_batches_and_fewer_epochs():
    big = DataShape(n_samples=20_000, mean_tokens=200.0, max_tokens=900, n_file_samples=5_000)
    small_resolved, _ = _choose()
    big_resolved, _ = _choose(shape=big)
    assert big_resolved.max_tokens_per_micro_batch > small_resolved.max_tokens_per_micro_batch
    assert big_resolved.knowledge_epochs <= small_resolved.knowledge_epochs
    assert big_resolved.max_seq_len == 960


def test_a_large_model_gets_lora_and_a_smaller_rate():
    resolved, decisions = _choose(n_params=LARGE)
    assert resolved.method == "lora" and "LoRA" in decisions["method"].reason
    assert resolved.lr < _choose()[0].lr * 10


def test_settings_in_the_config_win_and_say_so():
    config = TrainConfig(method="lora", lr=3e-4, knowledge_epochs=2, self_replay=0, heldout_share=0.0, max_seq_len=256,
                         max_tokens_per_micro_batch=512, early_stopping_patience=0)
    resolved, decisions = _choose(config)
    assert (resolved.method, resolved.lr, resolved.knowledge_epochs, resolved.self_replay) == ("lora", 3e-4, 2, 0)
    assert resolved.max_tokens_per_micro_batch == 512 and resolved.early_stopping_patience == 0
    assert all(d.reason == "set in the config" for d in decisions.values())


def test_a_random_test_model_keeps_memorisation_settings_without_replay_or_held_out_data():
    resolved, decisions = _choose(n_params=2_000_000)
    assert resolved.self_replay == 0 and resolved.heldout_share == 0 and resolved.early_stopping_patience == 0
    assert resolved.method == "full" and resolved.lr == 3e-3 and resolved.max_tokens_per_micro_batch == 2048
    assert "random test model" in decisions["self_replay"].reason


def test_few_samples_keep_none_out():
    resolved, decisions = _choose(shape=DataShape(n_samples=12, mean_tokens=40.0, max_tokens=60, n_file_samples=12))
    assert resolved.heldout_share == 0 and "no early stopping" in decisions["heldout_share"].reason
