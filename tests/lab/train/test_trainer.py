"""The training loop end to end on the tiny Llama: learning, LoRA, phases, refusal, checkpoints, resume."""

from __future__ import annotations

import json

import pytest

from lab.train import checkpoint as ckpt
from lab.train.config import TrainConfig
from lab.train.trainer import RunOptions, StopRequested, train
from tests.lab.train.conftest import KNOWLEDGE_QA, SYSTEM, comparable, read_metrics

QUIET = RunOptions(progress=False, log=lambda line: None)


def _answer(model_dir, question: str) -> str:
    from transformers import AutoModelForCausalLM, AutoTokenizer

    tokenizer = AutoTokenizer.from_pretrained(model_dir)
    model = AutoModelForCausalLM.from_pretrained(model_dir)
    messages = [{"role": "system", "content": SYSTEM}, {"role": "user", "content": question}]
    prompt = tokenizer.apply_chat_template(messages, add_generation_prompt=True, tokenize=False)
    ids = tokenizer(prompt, return_tensors="pt", add_special_tokens=False).input_ids
    out = model.generate(ids, max_new_tokens=24, do_sample=False)
    return tokenizer.decode(out[0, ids.shape[1]:], skip_special_tokens=True).strip()


@pytest.mark.slow
def test_loss_falls_and_the_trained_model_answers_a_seed_question_the_base_cannot(tiny_llama_dir, data_dir, tmp_path):
    config = TrainConfig(cpu_threads=1, mode="stacked", knowledge_epochs=60, log_every_steps=5)
    summary = train(data_dir, str(tiny_llama_dir), tmp_path / "out", config, QUIET)
    losses = [m["loss"] for m in read_metrics(tmp_path / "out")]
    assert losses[-1] < 0.5 * losses[0]
    question, answer = KNOWLEDGE_QA[0]
    assert _answer(tiny_llama_dir, question) != answer
    assert _answer(summary["final"], question) == answer
    metrics = read_metrics(tmp_path / "out")
    assert {"step", "phase", "loss", "lr", "tokens_per_s"} <= set(metrics[0])
    assert all(m["tokens_per_s"] > 0 for m in metrics)


def test_phases_run_in_order_and_phase2_starts_from_phase1_final_checkpoint(tiny_llama_dir, data_dir, tmp_path, monkeypatch):
    loaded = []
    real = ckpt.load_weights
    monkeypatch.setattr(ckpt, "load_weights", lambda model, path, *rest: (loaded.append(path), real(model, path, *rest)))
    config = TrainConfig(cpu_threads=1, knowledge_epochs=2, skills_epochs=2, replay_share=0.5, save_every_steps=1, keep_checkpoints=1)
    summary = train(data_dir, str(tiny_llama_dir), tmp_path / "out", config, QUIET)
    metrics = read_metrics(tmp_path / "out")
    assert [m["phase"] for m in metrics] == ["phase1"] * 2 + ["phase2"] * 2
    phase1_final = tmp_path / "out" / "phase1" / "checkpoint-2"
    assert loaded[0] == phase1_final and ckpt.read_state(phase1_final)["complete"]
    assert summary["phases"]["phase2"]["counts"] == {"skills": 2, "replay": 2}
    assert summary["phases"]["phase1"]["packing_efficiency"] > 0
    assert (summary["attention"], summary["boundaries"]) == ("sdpa", "mask4d")  # the CPU's path, named in the summary
    assert [p.name for p in (tmp_path / "out" / "phase1").iterdir()] == ["checkpoint-2"]  # pruned to keep=1
    final = tmp_path / "out" / "final"
    assert (final / "config.json").is_file() and (final / "tokenizer_config.json").is_file()
    assert (final / "chat_template.jinja").is_file() or "chat_template" in (final / "tokenizer_config.json").read_text()


@pytest.mark.slow
def test_lora_changes_only_adapter_weights_and_the_merged_model_matches(tiny_llama_dir, data_dir, tmp_path):
    import torch
    from transformers import AutoModelForCausalLM

    from lab.train.modeling import load_model, pick_runtime

    config = TrainConfig(cpu_threads=1, method="lora", mode="stacked", knowledge_epochs=5, lora_modules_to_save=["lm_head"])
    summary = train(data_dir, str(tiny_llama_dir), tmp_path / "out", config, QUIET)
    assert summary["trainable_parameters"] < summary["parameters"]
    base = AutoModelForCausalLM.from_pretrained(tiny_llama_dir)
    peft_model = load_model(str(tiny_llama_dir), config, pick_runtime(config))
    ckpt.load_weights(peft_model, ckpt.latest_checkpoint(tmp_path / "out" / "stacked"))
    base_state = base.state_dict()
    changed_adapters = 0
    for name, param in peft_model.named_parameters():
        if "lora_B" in name:
            changed_adapters += int(param.abs().sum() > 0)  # lora_B starts at zero
        elif "lora_" not in name and "modules_to_save" not in name:
            key = name.replace("base_model.model.", "").replace(".base_layer", "").replace(".original_module", "")
            assert torch.equal(param, base_state[key]), name
    assert changed_adapters > 0
    merged = AutoModelForCausalLM.from_pretrained(summary["final"])
    ids = torch.tensor([[0, 4, 205, 324, 90, 6, 5]])
    with torch.no_grad():
        assert torch.allclose(merged(ids).logits, peft_model.eval()(input_ids=ids).logits, atol=1e-4)
        assert not torch.allclose(merged(ids).logits, base(ids).logits, atol=1e-3)


def test_a_run_that_does_not_fit_is_refused_before_training(tiny_llama_dir, data_dir, tmp_path):
    config = TrainConfig(cpu_threads=1, memory_headroom=1e-9)
    with pytest.raises(MemoryError, match="GiB"):
        train(data_dir, str(tiny_llama_dir), tmp_path / "out", config, QUIET)
    assert not (tmp_path / "out" / "phase1").exists()


def test_an_existing_run_needs_resume_and_resume_needs_the_same_config(tiny_llama_dir, data_dir, tmp_path):
    config = TrainConfig(cpu_threads=1, knowledge_epochs=1, skills_epochs=1)
    train(data_dir, str(tiny_llama_dir), tmp_path / "out", config, QUIET)
    with pytest.raises(ValueError, match="--resume"):
        train(data_dir, str(tiny_llama_dir), tmp_path / "out", config, QUIET)
    other = TrainConfig(cpu_threads=1, knowledge_epochs=1, skills_epochs=1, seed=7)
    with pytest.raises(ValueError, match="different"):
        train(data_dir, str(tiny_llama_dir), tmp_path / "out", other, RunOptions(resume=True, progress=False, log=lambda s: None))


def test_half_written_checkpoints_are_never_picked(tmp_path):
    phase = tmp_path / "phase1"
    (phase / "checkpoint-3").mkdir(parents=True)
    (phase / "checkpoint-3" / "state.json").write_text(json.dumps({"step": 3}))
    (phase / ".tmp-checkpoint-6").mkdir()  # killed during the save
    (phase / "checkpoint-9").mkdir()  # no state file: not complete
    assert ckpt.latest_checkpoint(phase) == phase / "checkpoint-3"


def test_a_run_stopped_mid_phase_resumes_to_the_same_loss_curve(tiny_llama_dir, tmp_path):
    from tests.lab.train.conftest import write_data

    many = [(f"Question number {i}?", f"Answer {i} is here.") for i in range(24)]
    data = write_data(tmp_path / "data", knowledge=many, skills=many[:8])
    config = TrainConfig(cpu_threads=1, knowledge_epochs=2, skills_epochs=2, max_tokens_per_micro_batch=128, max_seq_len=64,
                         grad_accum=2, save_every_steps=3)
    train(data, str(tiny_llama_dir), tmp_path / "straight", config, QUIET)
    straight = read_metrics(tmp_path / "straight")
    assert len(straight) > 10
    for stop in (5, len([m for m in straight if m["phase"] == "phase1"]) + 2):
        out = tmp_path / f"stopped-{stop}"
        with pytest.raises(StopRequested):
            train(data, str(tiny_llama_dir), out, config, RunOptions(stop_after_steps=stop, progress=False, log=lambda s: None))
        assert len(read_metrics(out)) == stop  # lines past the last checkpoint get replayed on resume
        train(data, str(tiny_llama_dir), out, config, RunOptions(resume=True, progress=False, log=lambda s: None))
        assert comparable(read_metrics(out)) == comparable(straight)


def test_a_lora_run_stopped_mid_phase_resumes_to_the_same_loss_curve(tiny_llama_dir, data_dir, tmp_path):
    config = TrainConfig(cpu_threads=1, method="lora", lora_modules_to_save=["lm_head"], knowledge_epochs=4,
                         skills_epochs=3, max_seq_len=64, max_tokens_per_micro_batch=64, save_every_steps=2)
    train(data_dir, str(tiny_llama_dir), tmp_path / "straight", config, QUIET)
    with pytest.raises(StopRequested):
        train(data_dir, str(tiny_llama_dir), tmp_path / "stopped", config,
              RunOptions(stop_after_steps=7, progress=False, log=lambda s: None))
    assert (tmp_path / "stopped" / "phase1" / "checkpoint-6" / "adapter").is_dir()
    train(data_dir, str(tiny_llama_dir), tmp_path / "stopped", config, RunOptions(resume=True, progress=False, log=lambda s: None))
    assert comparable(read_metrics(tmp_path / "stopped")) == comparable(read_metrics(tmp_path / "straight"))


def test_lab_train_refuses_an_unknown_config_key_before_loading_anything(tmp_path, capsys):
    from lab.cli import main

    config = tmp_path / "train.yaml"
    config.write_text("train:\n  epochs: 3\n")
    assert main(["train", "--data", str(tmp_path), "--base", "nowhere", "--out", str(tmp_path / "out"),
                 "--config", str(config)]) == 2
    assert "epochs: unknown key" in capsys.readouterr().err
    assert not (tmp_path / "out").exists()


def test_a_time_limit_ends_the_running_phase_as_complete_and_skips_the_rest(tiny_llama_dir, data_dir, tmp_path):
    config = TrainConfig(cpu_threads=1, knowledge_epochs=3, skills_epochs=2, replay_share=0.5, save_every_steps=100)
    options = RunOptions(progress=False, log=lambda line: None, time_limit_s=1e-6)  # over after the first step
    summary = train(data_dir, str(tiny_llama_dir), tmp_path / "out", config, options)
    assert list(summary["phases"]) == ["phase1"] and summary["phases"]["phase1"]["stopped_at_time_limit"] == 1
    [only] = [p for _, p in ckpt.list_checkpoints(tmp_path / "out" / "phase1")]
    assert only.name == "checkpoint-1" and ckpt.read_state(only)["complete"]
    assert not (tmp_path / "out" / "phase2").exists() and (tmp_path / "out" / "final" / "config.json").is_file()
    assert summary["phases"]["phase1"]["steps"] > 1  # the plan had more steps than ran
