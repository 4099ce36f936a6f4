"""The varlen attention path (lab.train.varlen): boundaries, the kernel's calling convention, and packed
logits equal to each sample run alone. CPU runs the same plumbing with the reference kernel; the real
torch kernel is CUDA-only and is checked on a GPU by benchmarks/gpu_path.py."""

from __future__ import annotations

import pytest

from lab.train import varlen


def test_boundaries_cover_every_row_and_give_padding_a_segment_of_its_own():
    bounds, longest = varlen.cumulative_lengths([[3, 4], [2]], width=7)
    assert bounds == [0, 3, 7, 9, 14]  # row 2: a 2-token sample, then 5 tokens of padding
    assert longest == 5
    assert varlen.cumulative_lengths([[5]], width=5) == ([0, 5], 5)


def test_lengths_are_read_back_from_restarting_positions():
    import torch

    positions = torch.tensor([[0, 1, 2, 0, 1, 0, 1, 2, 3], [0, 1, 2, 3, 0, 0, 0, 0, 0]])
    assert varlen.lengths_from_positions(positions) == [[3, 2, 4], [4, 1, 1, 1, 1, 1]]


@pytest.mark.parametrize("signature", ["window", "is_causal"])
def test_the_torch_kernel_is_asked_for_causal_attention_in_either_torch_signature(monkeypatch, signature):
    import torch
    import torch.nn.attention.varlen as torch_varlen

    seen = {}

    def window(q, k, v, cu_q, cu_k, max_q, max_k, *, scale=None, window_size=(-1, -1), enable_gqa=False):
        seen.update(window_size=window_size, enable_gqa=enable_gqa, heads=(q.shape[1], k.shape[1]))
        return q

    def is_causal(q, k, v, cu_q, cu_k, max_q, max_k, *, is_causal=False):
        seen.update(is_causal=is_causal, heads=(q.shape[1], k.shape[1]))
        return q

    monkeypatch.setattr(torch_varlen, "varlen_attn", window if signature == "window" else is_causal)
    kernel = varlen.torch_kernel()
    q, kv = torch.zeros(6, 4, 8), torch.zeros(6, 2, 8)
    cu = torch.tensor([0, 6], dtype=torch.int32)
    kernel(q, kv, kv, cu, 6, None)
    if signature == "window":  # later torch: a causal window, grouped-query heads as a flag
        assert seen == {"window_size": (-1, 0), "enable_gqa": True, "heads": (4, 2)}
    else:  # torch 2.10: is_causal, and key/value heads repeated to match the queries
        assert seen == {"is_causal": True, "heads": (4, 4)}


@pytest.fixture
def reference_varlen():
    """The attention implementation registered with the reference kernel, the kernel restored after."""
    before = varlen._kernel
    assert varlen.register(varlen.reference_kernel)
    yield
    varlen._kernel = before


def test_packed_rows_through_the_varlen_path_equal_each_sample_alone(tiny_llama_dir, reference_varlen):
    import torch
    from transformers import AutoTokenizer

    from lab.train.config import TrainConfig
    from lab.train.modeling import Runtime, batch_logits, batch_tensors, is_varlen, load_model, row_logits
    from lab.train.packing import pack_row
    from lab.train.tokenize import tokenize_messages

    config = TrainConfig(cpu_threads=1, boundaries="position_ids")
    runtime = Runtime(torch.device("cpu"), torch.float32, "position_ids", varlen.NAME)
    plain = Runtime(torch.device("cpu"), torch.float32, "mask4d", "sdpa")
    assert is_varlen(runtime) and not is_varlen(plain)
    model = load_model(str(tiny_llama_dir), config, runtime).eval()
    reference = load_model(str(tiny_llama_dir), config, plain).eval()
    tokenizer = AutoTokenizer.from_pretrained(tiny_llama_dir)
    convs = [
        [{"role": "user", "content": "What is the capital of France?"}, {"role": "assistant", "content": "Paris."}],
        [{"role": "user", "content": "Spider legs?"}, {"role": "assistant", "content": "Eight, on every spider."}],
        [{"role": "user", "content": "Sky?"}, {"role": "assistant", "content": "Blue."}],
    ]
    samples = [tokenize_messages(tokenizer, c, 256) for c in convs]
    tensors = batch_tensors([pack_row(samples)], runtime)["inputs"]
    assert tensors["cu_seq_lens_q"].tolist()[-1] == sum(len(s.input_ids) for s in samples)
    assert "attention_mask" not in tensors  # the boundaries replace the (tokens x tokens) mask
    with torch.no_grad():
        alone = torch.cat([row_logits(reference, pack_row([s]), plain)[0] for s in samples])
        packed = row_logits(model, pack_row(samples), runtime)[0]
        two_rows, _ = batch_logits(model, [pack_row(samples[:1]), pack_row(samples[1:])], runtime)
        # without the boundaries, the kernel reads them back off the restarting positions
        ids = torch.tensor([[t for s in samples for t in s.input_ids]])
        positions = torch.tensor([[p for s in samples for p in range(len(s.input_ids))]])
        from_positions = model(input_ids=ids, position_ids=positions).logits[0]
    assert torch.allclose(packed, alone, atol=1e-5)
    assert torch.allclose(from_positions, alone, atol=1e-5)
    n0 = len(samples[0].input_ids)
    assert torch.allclose(two_rows[0, :n0], alone[:n0], atol=1e-5)
    assert torch.allclose(two_rows[1, : alone.shape[0] - n0], alone[n0:], atol=1e-5)


def test_a_gpu_without_flash_attn_trains_on_the_varlen_path(monkeypatch):
    import torch

    from lab.train.config import TrainConfig
    from lab.train.loop import row_shape
    from lab.train.modeling import pick_runtime

    monkeypatch.setattr(torch.cuda, "is_available", lambda: True)
    monkeypatch.setattr(varlen, "torch_kernel", lambda: varlen.reference_kernel)
    monkeypatch.setattr(varlen, "_kernel", None)
    config = TrainConfig(max_seq_len=512, max_tokens_per_micro_batch=4096)
    runtime = pick_runtime(config)
    assert (runtime.boundaries, runtime.attn_implementation) == ("position_ids", varlen.NAME)
    assert runtime.compute_dtype == torch.bfloat16
    assert row_shape(config, runtime) == (4096, 1)  # one long packed row: no mask, so no quadratic cost
    fp32 = pick_runtime(config.with_overrides({"dtype": "float32"}))  # the flash kernel has no fp32
    assert (fp32.boundaries, fp32.attn_implementation) == ("mask4d", "sdpa")
    assert row_shape(config, fp32) == (512, 8)


def test_a_kernel_registered_first_is_kept(monkeypatch):
    monkeypatch.setattr(varlen, "_kernel", None)

    def mine(*args):
        return varlen.reference_kernel(*args)

    assert varlen.register(mine)
    assert varlen.register() and varlen._kernel is mine  # what lab.train.modeling.pick_runtime calls


def test_the_gpu_benchmark_runs_end_to_end_at_toy_sizes(tmp_path):
    """benchmarks/gpu_path.py is run once per GPU lease, so it must not rot between leases: its --smoke mode
    runs every stage on the CPU (the varlen stages with the reference kernel)."""
    import json
    import subprocess
    import sys
    from pathlib import Path

    root = Path(__file__).resolve().parents[3]
    done = subprocess.run([sys.executable, "benchmarks/gpu_path.py", "--smoke", "--out", str(tmp_path),
                           "--work", str(tmp_path)], cwd=root, capture_output=True, text=True, timeout=600)
    assert done.returncode == 0, done.stderr[-2000:]
    results = json.loads((tmp_path / "gpu_path.json").read_text())
    failed = {name: stage["error"] for name, stage in results.items() if isinstance(stage, dict) and "error" in stage}
    assert not failed
    paths = results["paths"]
    assert paths["varlen packed rows"]["varlen_kernel_calls"] > 0 and paths["varlen packed rows"]["non_padding"] == 1.0
    assert paths["mask4d packed rows"]["varlen_kernel_calls"] == 0
    assert paths["padded batches of 8"]["non_padding"] < paths["mask4d packed rows"]["non_padding"]
    assert results["logits"]["passes"] and results["logits"]["varlen_kernel_calls"] > 0
    assert results["train"]["tokens_per_s_median"] > 0
    assert {f"batch_{n}" for n in (1, 8, 32)} <= set(results["generation"])


def test_the_attention_says_what_it_is_missing(monkeypatch):
    import torch

    q = torch.zeros(1, 2, 4, 8)
    monkeypatch.setattr(varlen, "_kernel", None)
    with pytest.raises(RuntimeError, match="call lab.train.varlen.register"):
        varlen.attention(None, q, q, q, None)
    monkeypatch.setattr(varlen, "_kernel", varlen.reference_kernel)
    with pytest.raises(ValueError, match="cu_seq_lens_q or position_ids"):
        varlen.attention(None, q, q, q, None)
