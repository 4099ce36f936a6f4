"""The chunked assistant-only loss: same loss and gradients as full logits, without keeping full logits."""

from __future__ import annotations

import pytest

from lab.train.packing import pack_row

CONVERSATIONS = [
    [{"role": "user", "content": "What is the capital of France?"},
     {"role": "assistant", "content": "Paris is the capital of France, on the Seine."}],
    [{"role": "system", "content": "Be kind."}, {"role": "user", "content": "Spider legs?"},
     {"role": "assistant", "content": "Eight."}],
    [{"role": "user", "content": "Sky?"}, {"role": "assistant", "content": "Blue, by Rayleigh scattering of sunlight."}],
]


def _setup(model_dir, method: str = "full"):
    from transformers import AutoTokenizer

    from lab.train.config import TrainConfig
    from lab.train.modeling import load_model, pick_runtime
    from lab.train.tokenize import tokenize_messages

    config = TrainConfig(cpu_threads=1, method=method, lora_modules_to_save=["lm_head"] if method == "lora" else [])
    runtime = pick_runtime(config)
    model = load_model(str(model_dir), config, runtime)
    tokenizer = AutoTokenizer.from_pretrained(model_dir)
    samples = [tokenize_messages(tokenizer, c, 256) for c in CONVERSATIONS]
    return model, runtime, samples


def _loss_and_grads(loss_fn, model, rows, runtime, **kwargs):
    model.zero_grad(set_to_none=True)
    loss = loss_fn(model, rows, runtime, **kwargs)
    loss.backward()
    return float(loss), {n: p.grad.clone() for n, p in model.named_parameters() if p.grad is not None}


@pytest.mark.parametrize("method", ["full", "lora"])
@pytest.mark.parametrize("chunk", [1, 7, 4096])
def test_chunked_loss_and_gradients_equal_the_full_logits_loss(tiny_llama_dir, method, chunk):
    import torch

    from lab.train.modeling import batch_loss_sum, full_logits_loss_sum

    model, runtime, samples = _setup(tiny_llama_dir, method)
    rows = [pack_row(samples[:1]), pack_row(samples[1:])]  # two rows, padded: padding has no target
    expected, expected_grads = _loss_and_grads(full_logits_loss_sum, model, rows, runtime)
    got, grads = _loss_and_grads(batch_loss_sum, model, rows, runtime, chunk_tokens=chunk)
    assert got == pytest.approx(expected, rel=1e-5)
    assert set(grads) == set(expected_grads) and grads  # the output layer and every trainable weight get gradients
    for name, grad in grads.items():
        assert torch.allclose(grad, expected_grads[name], atol=1e-5, rtol=1e-4), name


def test_packed_loss_equals_the_samples_trained_alone(tiny_llama_dir):
    import torch

    from lab.train.modeling import batch_loss_sum

    model, runtime, samples = _setup(tiny_llama_dir)
    with torch.no_grad():
        packed = float(batch_loss_sum(model, [pack_row(samples)], runtime, chunk_tokens=5))
        alone = sum(float(batch_loss_sum(model, [pack_row([s])], runtime, chunk_tokens=5)) for s in samples)
    assert packed == pytest.approx(alone, rel=1e-5)


def test_no_full_vocabulary_logits_are_kept_for_backward(tiny_llama_dir):
    import torch

    from lab.train.modeling import batch_loss_sum, full_logits_loss_sum

    model, runtime, samples = _setup(tiny_llama_dir)
    rows = [pack_row(samples)]
    vocab = model.config.vocab_size
    n_targets = rows[0].n_targets

    def saved_vocab_rows(loss_fn, **kwargs) -> int:
        """Rows of vocabulary-wide tensors that autograd keeps for backward."""
        kept = []

        def pack(tensor):
            if tensor.dim() >= 2 and tensor.shape[-1] == vocab and tensor.numel() != model.lm_head.weight.numel():
                kept.append(tensor.numel() // vocab)
            return tensor

        with torch.autograd.graph.saved_tensors_hooks(pack, lambda t: t):
            loss_fn(model, rows, runtime, **kwargs)
        return max(kept, default=0)

    assert saved_vocab_rows(full_logits_loss_sum) >= n_targets  # the control: the reference keeps them all
    assert saved_vocab_rows(batch_loss_sum, chunk_tokens=4) == 0


def test_output_layer_is_restored_even_when_the_forward_fails(tiny_llama_dir):
    from lab.train.modeling import batch_loss_sum

    model, runtime, samples = _setup(tiny_llama_dir)
    head = model.get_output_embeddings()
    assert "forward" not in vars(head)
    rows = [pack_row(samples)]
    rows[0].input_ids[0] = 10**9  # an id outside the vocabulary: the embedding lookup raises
    with pytest.raises((IndexError, RuntimeError)):
        batch_loss_sum(model, rows, runtime)
    assert "forward" not in vars(head)
    assert model.get_output_embeddings()(model.model.embed_tokens.weight[:2]).shape[-1] == model.config.vocab_size
