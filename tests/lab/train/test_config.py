"""Training config: typed overrides, unknown keys refused, file formats."""

from __future__ import annotations

import pytest

from lab.train.config import TrainConfig, apply_overrides, load_config


def test_unknown_key_is_refused_with_its_name():
    with pytest.raises(ValueError, match="lerning_rate"):
        apply_overrides(TrainConfig(), {"lerning_rate": 0.1})


def test_wrong_type_is_refused_and_ints_become_floats():
    with pytest.raises(ValueError, match="max_steps"):
        apply_overrides(TrainConfig(), {"max_steps": "ten"})
    with pytest.raises(ValueError, match="grad_accum"):
        apply_overrides(TrainConfig(), {"grad_accum": True})
    config = apply_overrides(TrainConfig(), {"replay_share": 0, "lr": 1})
    assert isinstance(config.replay_share, float) and config.lr == 1.0


def test_out_of_range_values_are_refused():
    with pytest.raises(ValueError, match="replay_share"):
        apply_overrides(TrainConfig(), {"replay_share": 1.0})
    with pytest.raises(ValueError, match="method"):
        apply_overrides(TrainConfig(), {"method": "qlora"})


def test_yaml_file_with_train_section_and_json_file_are_read(tmp_path):
    yaml_file = tmp_path / "train.yaml"
    yaml_file.write_text("train:\n  method: lora\n  lora_modules_to_save: [lm_head]\n")
    config = load_config(yaml_file)
    assert config.method == "lora" and config.lora_modules_to_save == ["lm_head"]
    json_file = tmp_path / "train.json"
    json_file.write_text('{"schedule": "linear", "warmup_ratio": 0.1}')
    assert load_config(json_file).schedule == "linear"


def test_auto_learning_rate_depends_on_size_and_method():
    from lab.train.recipe import peak_lr

    assert peak_lr(TrainConfig(), 100_000) == 3e-3
    assert peak_lr(TrainConfig(method="full"), 135_000_000) > peak_lr(TrainConfig(method="full"), 7_000_000_000)
    assert peak_lr(TrainConfig(method="lora"), 7_000_000_000) > peak_lr(TrainConfig(method="full"), 7_000_000_000)
    assert peak_lr(TrainConfig(lr=1e-4), 10) == 1e-4


def test_auto_values_are_accepted_and_bad_ones_refused():
    assert TrainConfig().validate().method == "auto"
    with pytest.raises(ValueError, match="self_replay"):
        apply_overrides(TrainConfig(), {"self_replay": -1})
    with pytest.raises(ValueError, match="early_stopping_patience"):
        apply_overrides(TrainConfig(), {"early_stopping_patience": -2})
    with pytest.raises(ValueError, match="max_tokens_per_micro_batch"):
        apply_overrides(TrainConfig(), {"max_seq_len": 512, "max_tokens_per_micro_batch": 100})


def test_set_overrides_are_typed_like_file_keys_and_a_bad_one_is_named(tmp_path, capsys):
    from lab.cli import main
    from lab.commands.train import _overrides

    config = apply_overrides(TrainConfig(), _overrides(["method=lora", "max_steps=20", "lr=1e-4", "mode=\"stacked\""]))
    assert (config.method, config.max_steps, config.lr, config.mode) == ("lora", 20, 1e-4, "stacked")
    assert main(["train", "--data", str(tmp_path), "--base", "nowhere", "--out", str(tmp_path / "out"),
                 "--set", "max_steps=ten"]) == 2
    assert capsys.readouterr().err == "lab train: max_steps: expected an integer, got 'ten'\n"
    assert not (tmp_path / "out").exists()
