"""The GPU path, measured: training MFU, varlen packing against padding, memory against the estimate,
packed logits against unpacked, and batched generation. Made to run once inside a short GPU lease.

Run (on a CUDA machine): python benchmarks/gpu_path.py --out DIR [--steps 30] [--layers 22]
Smoke test of the same code on the CPU, tiny sizes: python benchmarks/gpu_path.py --smoke --out /tmp/gp

Everything is built locally: a random Llama of TinyLlama's shape (about 1.1B parameters: hidden 2048,
22 layers, 32 query and 4 key/value heads, vocabulary 32,000; weights do not matter for throughput),
a tokenizer trained on the fly, and synthetic conversations whose lengths follow a Pareto spread up to
2,048 tokens. Stages, each timed and written to DIR/gpu_path.json as it ends (a failing stage is recorded
and the next one runs):

1. ceiling: an 8192^3 bf16 matrix product (median of 10), the device's real matrix rate;
2. lab train: `lab.train.trainer.train` on the data, full fine-tuning in bf16 autocast (fp32 master
   weights, AdamW), `--steps` optimizer steps of 16,384 tokens on the runtime it picks by itself (varlen on
   a GPU without flash-attn); tokens/s and MFU from its own metrics, peak GPU memory against its estimate;
3. paths: one model, the same samples and steps, three ways: varlen packed rows (lab's GPU path), packed
   rows of max_seq_len with a block-diagonal mask (SDPA, lab's CPU path) and plain padded batches of 8
   (the usual trainer); real (non-padding) tokens/s of each;
4. logits: a packed row through the varlen kernel against each sample alone through SDPA (bf16);
5. generation: lab's transformers backend (bf16 on the GPU), 128 new tokens at batch 1, 8 and 32.

MFU = 6 x parameters x tokens/s / peak, the trainer's formula, with peak the datasheet's dense bf16
rate (989 TFLOP/s for H100/H200); the JSON also gives it with attention FLOPs added, and against the
measured ceiling.
"""

from __future__ import annotations

import argparse
import gc
import json
import random
import statistics
import sys
import tempfile
import time
import traceback
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

GiB = 2**30
WORDS = ("the a of to and in is was for on that with as by at from tree root leaf branch model data seed "
         "question answer teacher student knowledge skill taxonomy prune graft bark river mountain city "
         "light sound water energy story poem number time year people world history science music").split()
SYSTEM = "You are a helpful assistant."


def log(message: str) -> None:
    print(f"[{time.strftime('%H:%M:%S')}] {message}", flush=True)


def conversations(n: int, seed: int, max_words: int) -> list[dict[str, Any]]:
    """Chat records with a realistic spread: mostly short answers, a long tail of long ones."""
    rng = random.Random(seed)
    records = []
    for _ in range(n):
        question = " ".join(rng.choices(WORDS, k=rng.randint(6, 40))) + "?"
        words = min(max_words, int(rng.paretovariate(1.1) * 60))
        answer = " ".join(rng.choices(WORDS, k=words)) + "."
        messages = [{"role": "system", "content": SYSTEM}, {"role": "user", "content": question},
                    {"role": "assistant", "content": answer}]
        records.append({"messages": messages, "metadata": {"leaf": "knowledge/synthetic/qna.yaml"}})
    return records


def build_model(out: Path, shape: dict[str, int], device: str) -> Path:
    import torch
    from transformers import GenerationConfig, LlamaConfig, LlamaForCausalLM

    from sandbox.tiny import train_tokenizer

    tokenizer = train_tokenizer([" ".join(WORDS)] * 4, vocab_size=1024)
    config = LlamaConfig(vocab_size=shape["vocab"], hidden_size=shape["hidden"], intermediate_size=shape["intermediate"],
                         num_hidden_layers=shape["layers"], num_attention_heads=shape["heads"],
                         num_key_value_heads=shape["kv_heads"], max_position_embeddings=4096, rms_norm_eps=1e-5,
                         tie_word_embeddings=False, bos_token_id=tokenizer.bos_token_id,
                         eos_token_id=tokenizer.eos_token_id, pad_token_id=tokenizer.pad_token_id)
    torch.manual_seed(0)
    with torch.device(device):
        model = LlamaForCausalLM(config).bfloat16()
    model.generation_config = GenerationConfig(bos_token_id=tokenizer.bos_token_id, eos_token_id=tokenizer.eos_token_id,
                                               pad_token_id=tokenizer.pad_token_id, do_sample=False)
    model.save_pretrained(out)
    tokenizer.save_pretrained(out)
    del model
    return out


def sync() -> None:
    import torch

    if torch.cuda.is_available():
        torch.cuda.synchronize()


def stage_env() -> dict[str, Any]:
    import torch
    import transformers

    from lab.train import varlen

    info: dict[str, Any] = {"torch": torch.__version__, "transformers": transformers.__version__,
                            "cuda": torch.cuda.is_available(), "varlen_kernel": varlen.torch_kernel() is not None}
    try:
        import flash_attn  # noqa: F401

        info["flash_attn"] = True
    except ImportError:
        info["flash_attn"] = False
    if torch.cuda.is_available():
        props = torch.cuda.get_device_properties(0)
        info.update(device=props.name, memory_gib=round(props.total_memory / GiB, 1), sms=props.multi_processor_count)
    return info


def stage_ceiling(smoke: bool) -> dict[str, Any]:
    import torch

    n = 1024 if smoke else 8192
    device = "cuda" if torch.cuda.is_available() else "cpu"
    a, b = (torch.randn(n, n, device=device, dtype=torch.bfloat16) for _ in range(2))
    times = []
    for i in range(13):
        sync()
        start = time.perf_counter()
        a @ b
        sync()
        if i >= 3:
            times.append(time.perf_counter() - start)
    median = statistics.median(times)
    return {"n": n, "median_s": median, "tflops": round(2 * n**3 / median / 1e12, 1)}


def train_config(args: argparse.Namespace, **overrides: Any) -> Any:
    from lab.train.config import TrainConfig

    values = dict(method="full", mode="stacked", dtype="bfloat16" if not args.smoke else "float32",
                  max_seq_len=args.seq, max_tokens_per_micro_batch=args.budget, grad_accum=1, lr=1e-5,
                  knowledge_epochs=1, self_replay=0, heldout_share=0.0, early_stopping_patience=0,
                  max_steps=args.steps, log_every_steps=max(1, args.steps // 6), save_every_steps=100000,
                  warmup_ratio=0.0)
    values.update(overrides)
    return TrainConfig(**values)


def stage_lab_train(args: argparse.Namespace, model_dir: Path, data_dir: Path, work: Path) -> dict[str, Any]:
    import torch

    from lab.train.loop import RunOptions
    from lab.train.trainer import train

    config = train_config(args)
    lines: list[str] = []

    def keep(line: str) -> None:
        lines.append(line)
        log("  lab train: " + line)

    if torch.cuda.is_available():
        torch.cuda.empty_cache()
        torch.cuda.reset_peak_memory_stats()
    start = time.perf_counter()
    summary = train(data_dir, str(model_dir), work / "train-out", config, RunOptions(progress=False, log=keep))
    wall = time.perf_counter() - start
    metrics = [json.loads(line) for line in (work / "train-out" / "metrics.jsonl").read_text().splitlines()]
    steps = [m for m in metrics if "tokens_per_s" in m][1:]  # the first window holds warm-up and kernel choice
    result: dict[str, Any] = {"wall_s": round(wall, 1), "log": [x for x in lines if "memory estimate" in x or "training" in x],
                              "windows": [{k: m.get(k) for k in ("step", "tokens_per_s", "mfu")} for m in metrics]}
    if steps:
        result["tokens_per_s_median"] = statistics.median(m["tokens_per_s"] for m in steps)
        if all("mfu" in m for m in steps):
            result["mfu_median"] = statistics.median(m["mfu"] for m in steps)
    if torch.cuda.is_available():
        result["peak_allocated_gib"] = round(torch.cuda.max_memory_allocated() / GiB, 2)
        result["peak_reserved_gib"] = round(torch.cuda.max_memory_reserved() / GiB, 2)
    result["summary_device"] = summary.get("device")
    return result


class Counting:
    """Wraps a varlen kernel to count its calls (so a variant provably ran the path it names)."""

    def __init__(self, kernel: Any) -> None:
        self.kernel, self.calls = kernel, 0

    def __call__(self, *args: Any) -> Any:
        self.calls += 1
        return self.kernel(*args)


def set_attention(model: Any, name: str) -> None:
    setter = getattr(model, "set_attn_implementation", None)
    if callable(setter):
        setter(name)
    else:
        model.config._attn_implementation = name


def padded_batches(samples: list[Any], batch: int, seed: int) -> list[list[int]]:
    order = list(range(len(samples)))
    random.Random(seed).shuffle(order)
    return [order[i:i + batch] for i in range(0, len(order), batch)]


def stage_paths(args: argparse.Namespace, model_dir: Path, records: list[dict[str, Any]], counter: Counting,
                compiled: bool = False) -> dict[str, Any]:
    """Three ways over one model and the same samples; real tokens/s of each, peak memory, estimate."""
    import torch

    from lab.train import varlen
    from lab.train.memory import checkpointing_budget, compute_bytes_for, estimate_memory
    from lab.train.modeling import Runtime, batch_loss_sum, load_model, load_tokenizer
    from lab.train.packing import pack_row, plan_micro_batches
    from lab.train.tokenize import tokenize_records

    device = torch.device("cuda" if torch.cuda.is_available() else "cpu")
    dtype = torch.bfloat16 if device.type == "cuda" else torch.float32
    config = train_config(args)
    tokenizer = load_tokenizer(str(model_dir))
    samples, _ = tokenize_records(tokenizer, records, args.seq)
    lengths = [len(s.input_ids) for s in samples]
    varlen_rt = Runtime(device, dtype, "position_ids", varlen.NAME)
    mask_rt = Runtime(device, dtype, "mask4d", "sdpa")
    model = load_model(str(model_dir), config, varlen_rt)
    model.train()
    optimizer = torch.optim.AdamW([p for p in model.parameters() if p.requires_grad], lr=1e-5, fused=device.type == "cuda")
    varlen_plan = plan_micro_batches(lengths, args.budget, 1, 1, seed=1)
    plans = {
        "varlen packed rows": (varlen_rt, varlen_plan),
        "mask4d packed rows": (mask_rt, plan_micro_batches(lengths, args.seq, args.budget // args.seq, 1, seed=1)),
        "padded batches of 8": (mask_rt, [[[i] for i in group] for group in padded_batches(samples, 8, 1)]),
    }
    out: dict[str, Any] = {"samples": len(samples), "mean_tokens": round(statistics.mean(lengths), 1),
                           "max_tokens": max(lengths), "sum_sq_over_sum": round(sum(n * n for n in lengths) / sum(lengths), 1)}
    n_params = sum(p.numel() for p in model.parameters())
    if compiled:  # its own stage, run last: compiling may take long, and the JSON is written after each stage
        plans = {"varlen packed rows, layers compiled": (varlen_rt, varlen_plan)}
    for name, (runtime, plan) in plans.items():
        set_attention(model, runtime.attn_implementation)
        if "compiled" in name:
            import torch._dynamo

            # one compiled layer per instance: raise dynamo's limit of 8 entries, or the rest fall back to eager
            torch._dynamo.config.cache_size_limit = max(64, 4 * len(model.model.layers))
            torch._dynamo.config.accumulated_cache_size_limit = max(256, 8 * len(model.model.layers))
            for layer in model.model.layers:
                layer.compile(dynamic=True)
        calls_before = counter.calls
        if device.type == "cuda":
            torch.cuda.empty_cache()
            torch.cuda.reset_peak_memory_stats()
        times, forward_backward, real, computed = [], [], 0, 0
        compile_start, warm_up_s = time.perf_counter(), 0.0
        for step, batch_rows in enumerate(plan[: args.steps + 2]):
            rows = [pack_row([samples[i] for i in row]) for row in batch_rows]
            sync()
            start = time.perf_counter()
            n_targets = sum(r.n_targets for r in rows)
            loss = batch_loss_sum(model, rows, runtime) / max(1, n_targets)
            loss.backward()
            sync()
            middle = time.perf_counter()
            torch.nn.utils.clip_grad_norm_(model.parameters(), 1.0)
            optimizer.step()
            optimizer.zero_grad(set_to_none=True)
            sync()
            if step == 1:
                warm_up_s = time.perf_counter() - compile_start
            if step >= 2:  # two warm-up steps: kernel selection, allocator growth (and compiling)
                times.append(time.perf_counter() - start)
                forward_backward.append(middle - start)
                real += sum(len(r.input_ids) for r in rows)
                computed += len(rows) * max(len(r.input_ids) for r in rows)
        seconds = sum(times)
        entry: dict[str, Any] = {"steps": len(times), "real_tokens": real, "computed_tokens": computed,
                                 "non_padding": round(real / max(1, computed), 3),
                                 "tokens_per_s": round(real / seconds, 1) if seconds else None,
                                 "median_step_s": round(statistics.median(times), 4) if times else None,
                                 "median_forward_backward_s": round(statistics.median(forward_backward), 4) if times else None,
                                 "varlen_kernel_calls": counter.calls - calls_before, "warm_up_s": round(warm_up_s, 1)}
        if entry["tokens_per_s"]:
            entry["mfu_6n"] = round(6 * n_params * entry["tokens_per_s"] / args.peak, 4)
        if device.type == "cuda":
            entry["peak_allocated_gib"] = round(torch.cuda.max_memory_allocated() / GiB, 2)
            entry["peak_reserved_gib"] = round(torch.cuda.max_memory_reserved() / GiB, 2)
        out[name] = entry
        log(f"  {name}: {entry}")
    budget = checkpointing_budget(config, device)
    estimate = estimate_memory(model, config, 1, compute_bytes_for(config, device), budget)
    out["estimate"] = {"gib": round(estimate.total / GiB, 2), "describe": estimate.describe()}
    out["parameters"] = n_params
    del optimizer, model
    if device.type == "cuda":
        torch.cuda.empty_cache()
    return out


def stage_logits(args: argparse.Namespace, model_dir: Path, records: list[dict[str, Any]], counter: Counting) -> dict[str, Any]:
    import torch

    from lab.train import varlen
    from lab.train.modeling import Runtime, load_model, load_tokenizer, row_logits
    from lab.train.packing import pack_row
    from lab.train.tokenize import tokenize_records

    device = torch.device("cuda" if torch.cuda.is_available() else "cpu")
    dtype = torch.bfloat16 if device.type == "cuda" else torch.float32
    config = train_config(args)
    tokenizer = load_tokenizer(str(model_dir))
    samples, _ = tokenize_records(tokenizer, records[:6], args.seq)
    varlen_rt = Runtime(device, dtype, "position_ids", varlen.NAME)
    mask_rt = Runtime(device, dtype, "mask4d", "sdpa")
    model = load_model(str(model_dir), config, varlen_rt).eval()
    before = counter.calls
    fp32_rt = Runtime(device, torch.float32, "mask4d", "sdpa")  # the yardstick: each sample alone, no autocast
    with torch.no_grad():
        packed = row_logits(model, pack_row(samples), varlen_rt)[0].float()
        alone_varlen = torch.cat([row_logits(model, pack_row([s]), varlen_rt)[0] for s in samples]).float()
        set_attention(model, "sdpa")
        alone_sdpa = torch.cat([row_logits(model, pack_row([s]), mask_rt)[0] for s in samples]).float()
        reference = torch.cat([row_logits(model, pack_row([s]), fp32_rt)[0] for s in samples]).double()

    def rel(x: Any) -> float:
        return float((x.double() - reference).norm() / reference.norm())

    packed_err, sdpa_err = rel(packed), rel(alone_sdpa)
    del model
    return {"samples": len(samples), "tokens": int(packed.shape[0]),
            "rel_err_packed_varlen_bf16": packed_err, "rel_err_alone_varlen_bf16": rel(alone_varlen),
            "rel_err_alone_sdpa_bf16": sdpa_err,
            "argmax_agreement_packed_vs_fp32": float((packed.argmax(-1) == reference.argmax(-1)).double().mean()),
            "argmax_agreement_sdpa_vs_fp32": float((alone_sdpa.argmax(-1) == reference.argmax(-1)).double().mean()),
            "varlen_kernel_calls": counter.calls - before,
            # packing is right when the packed row is as close to fp32 as a sample alone in bf16 is
            "passes": packed_err <= 1.5 * sdpa_err + 1e-4 and counter.calls - before > 0}


def decode_step_s(backend: Any, prompts: list[Any], steps: int) -> float:
    """Seconds per token step of a bare greedy loop over the KV cache: the floor under generate()'s own overhead."""
    import torch

    texts = [backend._render(p) for p in prompts]
    enc = backend.tokenizer(texts, return_tensors="pt", padding=True, add_special_tokens=False).to(backend.device)
    with torch.no_grad():
        result = backend.model(**enc, use_cache=True)
        cache, mask = result.past_key_values, enc["attention_mask"]
        token = result.logits[:, -1:].argmax(-1)
        sync()
        start = time.perf_counter()
        for _ in range(steps):
            mask = torch.cat([mask, mask.new_ones((mask.shape[0], 1))], dim=1)
            result = backend.model(input_ids=token, attention_mask=mask, past_key_values=cache, use_cache=True)
            cache, token = result.past_key_values, result.logits[:, -1:].argmax(-1)
        sync()
    return (time.perf_counter() - start) / steps


def stage_generation(args: argparse.Namespace, model_dir: Path) -> dict[str, Any]:
    from lab.generate.backends.hf import TransformersBackend

    out: dict[str, Any] = {}
    new_tokens = 16 if args.smoke else 128
    for batch in (1, 8, 32):
        backend = TransformersBackend(model_dir, batch_size=batch)
        backend.model.generation_config.min_new_tokens = new_tokens  # a random model's EOS must not end a row early
        prompts = [[{"role": "user", "content": " ".join(random.Random(i).choices(WORDS, k=30))}] for i in range(batch)]
        backend.complete(prompts[:1], max_new_tokens=4, temperature=0.0, seed=0)  # warm-up
        sync()
        start = time.perf_counter()
        completions = backend.complete(prompts, max_new_tokens=new_tokens, temperature=0.0, seed=0)
        sync()
        seconds = time.perf_counter() - start
        tokens = sum(c.completion_tokens for c in completions)
        out[f"batch_{batch}"] = {"completion_tokens": tokens, "seconds": round(seconds, 3),
                                 "tokens_per_s": round(tokens / seconds, 1), "dtype": str(backend.model.dtype)}
        out[f"batch_{batch}"]["plain_loop_ms_per_step"] = round(1000 * decode_step_s(backend, prompts, 32), 2)
        log(f"  generation batch {batch}: {out[f'batch_{batch}']}")
        backend.close()
    return out


def stage_cli(args: argparse.Namespace, work: Path) -> dict[str, Any]:
    """`lab train` as a user runs it, every default, on a tiny model: the recipe, self-replay, held-out loss and
    early stopping on the GPU; then LoRA; then one rank under torchrun (NCCL on a GPU)."""
    import subprocess

    from sandbox.tiny import build_tiny_llama

    tiny = build_tiny_llama(work / "tiny")
    data = work / "tiny-data"
    data.mkdir(exist_ok=True)
    for name, count, seed in (("knowledge_train_msgs.jsonl", 48, 5), ("skills_train_msgs.jsonl", 24, 6)):
        with open(data / name, "w", encoding="utf-8") as handle:
            handle.writelines(json.dumps(r) + "\n" for r in conversations(count, seed, max_words=60))
    lab = ["-m", "lab.cli", "train", "--data", str(data), "--base", str(tiny), "--no-progress"]
    runs = {"defaults": [sys.executable, *lab, "--out", str(work / "cli-defaults")],
            "lora": [sys.executable, *lab, "--out", str(work / "cli-lora"), "--set", 'method="lora"',
                     "--set", 'lora_modules_to_save=["lm_head"]'],
            "torchrun, 1 rank": [sys.executable, "-m", "torch.distributed.run", "--nproc_per_node", "1", *lab,
                                 "--out", str(work / "cli-torchrun")]}
    out: dict[str, Any] = {}
    for name, command in runs.items():
        start = time.perf_counter()
        try:
            done = subprocess.run(command, cwd=ROOT, capture_output=True, text=True, timeout=150)
            code, text = done.returncode, done.stdout + done.stderr
        except subprocess.TimeoutExpired as stopped:
            code, text = -1, f"timed out: {stopped}"
        entry: dict[str, Any] = {"rc": code, "seconds": round(time.perf_counter() - start, 1),
                                 "tail": [line for line in text.splitlines() if "arn" not in line][-8:]}
        summary = Path(command[command.index("--out") + 1]) / "train_summary.json"
        if summary.is_file():
            loaded = json.loads(summary.read_text())
            entry.update({k: loaded.get(k) for k in ("device", "dtype", "attention", "boundaries", "world_size", "method")})
            entry["phases"] = sorted(loaded.get("phases", {}))
        out[name] = entry
        log(f"  lab train, {name}: rc {code}, {entry.get('device')}, {entry.get('attention')}, {entry['seconds']} s")
    return out


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--out", type=Path, required=True)
    parser.add_argument("--steps", type=int, default=30)
    parser.add_argument("--layers", type=int, default=22)
    parser.add_argument("--samples", type=int, default=3000)
    parser.add_argument("--seq", type=int, default=2048, help="max_seq_len (tokens)")
    parser.add_argument("--budget", type=int, default=16384, help="max_tokens_per_micro_batch")
    parser.add_argument("--peak", type=float, default=989e12, help="the device's stated dense bf16 FLOP/s")
    parser.add_argument("--work", type=Path, default=None, help="scratch folder (default: /dev/shm when it is large)")
    parser.add_argument("--stages", default="ceiling,train,paths,logits,generation",
                        help="comma-separated; 'compiled' also times the varlen path with each layer torch.compile'd, "
                             "'cli' runs `lab train` with its defaults on a tiny model (plain, LoRA, torchrun)")
    parser.add_argument("--smoke", action="store_true", help="tiny sizes on whatever device: checks the script, not the GPU")
    args = parser.parse_args()
    shape = dict(vocab=32000, hidden=2048, intermediate=5632, layers=args.layers, heads=32, kv_heads=4)
    max_words = 1400
    if args.smoke:
        shape = dict(vocab=2048, hidden=64, intermediate=128, layers=2, heads=4, kv_heads=2)
        args.steps, args.samples, args.seq, args.budget, max_words = min(args.steps, 4), 200, 256, 1024, 150
    args.out.mkdir(parents=True, exist_ok=True)
    results: dict[str, Any] = {"args": {k: str(v) for k, v in vars(args).items()}, "shape": shape}

    def save() -> None:
        (args.out / "gpu_path.json").write_text(json.dumps(results, indent=2), encoding="utf-8")

    import shutil

    import torch

    from lab.train import varlen

    scratch = args.work
    if scratch is None and Path("/dev/shm").is_dir() and shutil.disk_usage("/dev/shm").free > 40 * GiB:
        scratch = Path("/dev/shm")
    work = Path(tempfile.mkdtemp(prefix="gpu-path-", dir=scratch))
    results["env"] = stage_env()
    log(f"env: {results['env']} (scratch {work})")
    kernel = varlen.torch_kernel() if torch.cuda.is_available() else varlen.reference_kernel
    counter = Counting(kernel or varlen.reference_kernel)
    varlen.register(counter)
    records = conversations(args.samples, seed=3, max_words=max_words)
    data_dir = work / "data"
    data_dir.mkdir()
    with open(data_dir / "knowledge_train_msgs.jsonl", "w", encoding="utf-8") as handle:
        handle.writelines(json.dumps(r) + "\n" for r in records)
    start = time.perf_counter()
    model_dir = build_model(work / "model", shape, "cuda" if torch.cuda.is_available() else "cpu")
    results["build_s"] = round(time.perf_counter() - start, 1)
    log(f"model built in {results['build_s']} s")
    stages = {"ceiling": lambda: stage_ceiling(args.smoke),
              "train": lambda: stage_lab_train(args, model_dir, data_dir, work),
              "paths": lambda: stage_paths(args, model_dir, records, counter),
              "logits": lambda: stage_logits(args, model_dir, records, counter),
              "generation": lambda: stage_generation(args, model_dir),
              "compiled": lambda: stage_paths(args, model_dir, records, counter, compiled=True),
              "cli": lambda: stage_cli(args, work)}
    for name in args.stages.split(","):
        log(f"stage {name}")
        start = time.perf_counter()
        try:
            results[name] = stages[name]()
        except Exception as error:  # record it and go on: the lease is too short to lose the other stages
            results[name] = {"error": f"{type(error).__name__}: {error}", "traceback": traceback.format_exc()[-3000:]}
            log(f"  {name} failed: {type(error).__name__}: {error}")
        results[name + "_s"] = round(time.perf_counter() - start, 1)
        save()
        shutil.rmtree(work / "train-out", ignore_errors=True)
        gc.collect()
        if torch.cuda.is_available():
            torch.cuda.empty_cache()
    log(json.dumps({k: v for k, v in results.items() if k not in ("args",)}, indent=1)[-6000:])
    shutil.rmtree(work, ignore_errors=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
