"""The pre-flight memory estimate and the activation-checkpointing rule it shares with model loading."""

from __future__ import annotations

from types import SimpleNamespace

import pytest

from lab.train.config import TrainConfig
from lab.train.memory import (
    ACTIVATION_CHECKPOINT_ABOVE,
    FRAMEWORK_BYTES,
    GiB,
    check_memory,
    estimate_memory,
    layer_activation_bytes,
    wants_activation_checkpointing,
)


class FakeParam:
    def __init__(self, numel: int, trainable: bool, element_size: int = 4):
        self._numel, self.requires_grad, self._size = numel, trainable, element_size

    def numel(self) -> int:
        return self._numel

    def element_size(self) -> int:
        return self._size


class FakeModel:
    """The shape of SmolLM2-135M: 30 layers, hidden 576, MLP 1536, 49,152 tokens."""

    def __init__(self, trainable: int = 134_515_008, total: int = 134_515_008):
        self.config = SimpleNamespace(hidden_size=576, intermediate_size=1536, num_hidden_layers=30, vocab_size=49152)
        self._params = [FakeParam(total - trainable, False), FakeParam(trainable, True)]

    def parameters(self):
        return iter(self._params)


def _config(**overrides) -> TrainConfig:
    return TrainConfig(max_seq_len=1024, max_tokens_per_micro_batch=2048).with_overrides(overrides)


def test_full_fine_tuning_counts_weights_grads_and_both_adam_moments():
    estimate = estimate_memory(FakeModel(), _config())
    n = 134_515_008
    assert (estimate.weights, estimate.gradients, estimate.optimizer) == (4 * n, 4 * n, 8 * n)
    assert estimate.framework == FRAMEWORK_BYTES
    assert estimate.total == sum([estimate.framework, estimate.weights, estimate.gradients, estimate.optimizer,
                                  estimate.activations, estimate.loss, estimate.transient])


def test_lora_pays_optimizer_state_only_for_its_adapters():
    full = estimate_memory(FakeModel(), _config())
    lora = estimate_memory(FakeModel(trainable=4_884_480, total=134_515_008 + 4_884_480), _config(method="lora"))
    assert lora.optimizer == 8 * 4_884_480 and lora.total < full.total - 1.3 * GiB


def test_lora_layers_keep_more_activations_than_the_plain_model():
    model = FakeModel(trainable=4_884_480, total=134_515_008 + 4_884_480)
    full = estimate_memory(model, _config(activation_checkpointing="off"))
    lora = estimate_memory(model, _config(activation_checkpointing="off", method="lora"))
    assert lora.activations > 1.5 * full.activations


def test_auto_checkpointing_turns_on_when_kept_activations_pass_the_bound():
    model = FakeModel()
    big, small = _config(), _config(max_seq_len=128, max_tokens_per_micro_batch=128)
    assert layer_activation_bytes(model, big) > ACTIVATION_CHECKPOINT_ABOVE >= layer_activation_bytes(model, small)
    assert wants_activation_checkpointing(model, big) and not wants_activation_checkpointing(model, small)
    assert not wants_activation_checkpointing(model, _config(activation_checkpointing="off"))
    assert wants_activation_checkpointing(model, _config(max_seq_len=128, max_tokens_per_micro_batch=128,
                                                         activation_checkpointing="on"))
    kept = estimate_memory(model, _config(activation_checkpointing="off"))
    recomputed = estimate_memory(model, big)
    assert recomputed.checkpointing and not kept.checkpointing
    assert recomputed.activations < kept.activations / 5


def test_on_a_gpu_auto_checkpointing_turns_on_only_when_the_run_would_not_fit():
    model, big = FakeModel(), _config()
    kept = estimate_memory(model, _config(activation_checkpointing="off"))
    assert wants_activation_checkpointing(model, big)  # the CPU's rule: over 1 GiB kept
    roomy, tight = kept.total + 1, kept.total - 1  # the GPU's budget: free memory (+ torch's own) x headroom
    assert not wants_activation_checkpointing(model, big, budget_bytes=roomy)
    assert wants_activation_checkpointing(model, big, budget_bytes=tight)
    assert estimate_memory(model, big, budget_bytes=roomy).total == kept.total  # the estimate follows the choice
    assert estimate_memory(model, big, budget_bytes=tight).checkpointing
    assert not wants_activation_checkpointing(model, _config(activation_checkpointing="off"), budget_bytes=1)


def test_the_checkpointing_budget_is_only_a_gpu_s():
    from lab.train.memory import checkpointing_budget

    assert checkpointing_budget(_config(), SimpleNamespace(type="cpu")) is None


def test_activations_grow_with_the_micro_batch_and_the_loss_chunk_does_not():
    model = FakeModel()
    one = estimate_memory(model, _config(activation_checkpointing="off", max_tokens_per_micro_batch=1024))
    two = estimate_memory(model, _config(activation_checkpointing="off", max_tokens_per_micro_batch=2048))
    assert two.activations == pytest.approx(2 * one.activations, rel=0.01)
    assert two.loss - one.loss == 1024 * 576 * 4 * 2  # only the gathered hidden states grow


def test_fsdp_shards_divide_the_parameter_terms_only():
    one, four = estimate_memory(FakeModel(), _config()), estimate_memory(FakeModel(), _config(), shards=4)
    assert four.optimizer == one.optimizer // 4 and four.activations == one.activations


def test_activation_checkpointing_setting_is_checked():
    from lab.train.config import apply_overrides

    assert apply_overrides(TrainConfig(), {"activation_checkpointing": "on"}).activation_checkpointing == "on"
    with pytest.raises(ValueError, match="activation_checkpointing: expected one of"):
        apply_overrides(TrainConfig(), {"activation_checkpointing": "sometimes"})


def test_refusal_names_both_figures_and_the_ways_out(monkeypatch):
    monkeypatch.setattr("lab.train.memory.available_memory_bytes", lambda device: 1 * GiB)
    with pytest.raises(MemoryError, match=r"needs about \d+\.\d GiB .* only 1\.0 GiB is free.*method: lora"):
        check_memory(FakeModel(), _config(), SimpleNamespace(type="cpu"))


def test_describe_lists_every_term():
    text = estimate_memory(FakeModel(), _config()).describe()
    for term in ("framework", "weights", "grads", "adam", "activations", "loss", "transient", "recomputed"):
        assert term in text


def test_checkpointed_layers_give_the_same_loss_and_gradients(tiny_llama_dir):
    import torch
    from transformers import AutoTokenizer

    from lab.train.modeling import batch_loss_sum, load_model, pick_runtime
    from lab.train.packing import pack_row
    from lab.train.tokenize import tokenize_messages

    tokenizer = AutoTokenizer.from_pretrained(tiny_llama_dir)
    sample = tokenize_messages(tokenizer, [{"role": "user", "content": "Sky colour?"},
                                           {"role": "assistant", "content": "Blue, by Rayleigh scattering."}], 256)
    results = []
    for setting in ("off", "on"):
        config = _config(cpu_threads=1, activation_checkpointing=setting)
        runtime = pick_runtime(config)
        model = load_model(str(tiny_llama_dir), config, runtime).train()
        assert model.is_activation_checkpointing == (setting == "on")
        loss = batch_loss_sum(model, [pack_row([sample])], runtime)
        loss.backward()
        results.append((loss.item(), {n: p.grad.clone() for n, p in model.named_parameters()}))
    (loss_off, grads_off), (loss_on, grads_on) = results
    assert loss_on == pytest.approx(loss_off, rel=1e-6)
    for name, grad in grads_off.items():
        assert torch.allclose(grads_on[name], grad, atol=1e-6), name


FREED_BLOCKS_SCRIPT = """
import sys
from lab.train.memory import release_freed_activations

def rss():
    with open("/proc/self/statm") as f:
        return int(f.read().split()[1]) * 4096

if sys.argv[1] == "on" and not release_freed_activations():
    print("unsupported"); raise SystemExit(0)
big = bytearray(16 << 20)
del big  # glibc raises its threshold to this size: smaller blocks now come from the heap
before = rss()
blocks = [bytearray(4 << 20) for _ in range(64)]  # 256 MiB of per-layer sized tensors, touched
last = blocks.pop()  # still alive, above the others in the heap: freeing them cannot shrink its top
del blocks
print(rss() - before)
"""


@pytest.mark.parametrize("setting", ["off", "on"])
def test_freed_activation_sized_blocks_go_back_to_the_system_on_cpu(setting):
    import subprocess
    import sys

    if not sys.platform.startswith("linux"):
        pytest.skip("glibc's allocator only")
    done = subprocess.run([sys.executable, "-c", FREED_BLOCKS_SCRIPT, setting], capture_output=True, text=True,
                          timeout=120, check=True)
    if done.stdout.strip() == "unsupported":
        pytest.skip("not glibc")
    held_mib = int(done.stdout.strip()) / 2**20
    if setting == "on":
        assert held_mib < 32  # one 4 MiB block still alive, the 63 freed ones returned
    else:
        assert held_mib > 128  # without it the heap keeps most of the 252 MiB freed (why the fix exists)
