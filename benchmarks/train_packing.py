"""Benchmark lab.train's packing: non-padding share and training tokens/s, packed versus padded batches.

Run: .venv/bin/python benchmarks/train_packing.py [--samples 256] [--repeats 3] [--threads 0]

Both sides train the same tiny Llama (sandbox/tiny.py) on the same conversations, tokenised with
the same chat template and assistant-only labels, one epoch per repeat, AdamW, fp32 on CPU:

* baseline: shuffled batches of `--batch` samples padded to the longest in the batch (the usual
  `DataCollatorWithPadding` shape), 2D attention mask;
* ours: multipack first-fit-decreasing rows of `--row` tokens, `--budget` tokens per micro-batch
  (rows padded to the longest), block-diagonal causal mask and restarting position ids — exactly
  what `lab train` runs on CPU (lab.train.packing + lab.train.modeling).

Printed: real (non-padding) tokens, tokens computed, non-padding share, median epoch seconds, real
tokens/s, and the ratio. Everything is built locally; nothing is downloaded.
"""

from __future__ import annotations

import argparse
import random
import statistics
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from lab.train.config import TrainConfig  # noqa: E402
from lab.train.packing import non_padding_share, pack_row, packing_efficiency, plan_micro_batches  # noqa: E402
from lab.train.tokenize import IGNORE, tokenize_messages  # noqa: E402
from sandbox.tiny import build_tiny_llama  # noqa: E402

WORDS = ("the quick brown fox jumps over lazy dog what is capital of france paris spider has eight legs "
         "knowledge skills taxonomy seed examples questions answers context document sky blue").split()


def conversations(n: int, seed: int) -> list[list[dict[str, str]]]:
    """Chat samples with a realistic spread of lengths (short answers to long explanations)."""
    rng = random.Random(seed)
    out = []
    for _ in range(n):
        question = " ".join(rng.choices(WORDS, k=rng.randint(5, 40))) + "?"
        answer = " ".join(rng.choices(WORDS, k=int(rng.paretovariate(1.2) * 12) % 300 + 3)) + "."
        out.append([{"role": "system", "content": "You are a helpful assistant."},
                    {"role": "user", "content": question}, {"role": "assistant", "content": answer}])
    return out


def padded_epoch(model, samples, batch: int, pad_id: int, seed: int) -> tuple[float, int, int]:
    import torch
    import torch.nn.functional as F

    optimizer = torch.optim.AdamW(model.parameters(), lr=1e-4)
    order = list(range(len(samples)))
    random.Random(seed).shuffle(order)
    real = computed = 0
    start = time.perf_counter()
    for i in range(0, len(order), batch):
        chunk = [samples[j] for j in order[i : i + batch]]
        width = max(len(s.input_ids) for s in chunk)
        ids = torch.full((len(chunk), width), pad_id)
        mask = torch.zeros((len(chunk), width), dtype=torch.long)
        labels = torch.full((len(chunk), width), IGNORE)
        for row, s in enumerate(chunk):
            n = len(s.input_ids)
            ids[row, :n] = torch.tensor(s.input_ids)
            mask[row, :n] = 1
            labels[row, :n] = torch.tensor(s.labels)
        logits = model(input_ids=ids, attention_mask=mask).logits
        loss = F.cross_entropy(logits[:, :-1].reshape(-1, logits.shape[-1]), labels[:, 1:].reshape(-1), ignore_index=IGNORE)
        loss.backward()
        optimizer.step()
        optimizer.zero_grad(set_to_none=True)
        real += int(mask.sum())
        computed += ids.numel()
    return time.perf_counter() - start, real, computed


def packed_epoch(model, samples, plan, runtime) -> tuple[float, int, int]:
    import torch

    from lab.train.modeling import batch_loss_sum

    optimizer = torch.optim.AdamW(model.parameters(), lr=1e-4)
    real = computed = 0
    start = time.perf_counter()
    for batch in plan:
        rows = [pack_row([samples[i] for i in row]) for row in batch]
        loss = batch_loss_sum(model, rows, runtime) / max(1, sum(r.n_targets for r in rows))
        loss.backward()
        optimizer.step()
        optimizer.zero_grad(set_to_none=True)
        real += sum(len(r.input_ids) for r in rows)
        computed += max(len(r.input_ids) for r in rows) * len(rows)
    return time.perf_counter() - start, real, computed


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--samples", type=int, default=256)
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--batch", type=int, default=8, help="padded baseline: samples per batch")
    parser.add_argument("--budget", type=int, default=2048, help="packed: tokens per micro-batch")
    parser.add_argument("--row", type=int, default=512, help="packed: tokens per row (lab train: max_seq_len)")
    parser.add_argument("--threads", type=int, default=0, help="torch CPU threads (0: torch's default)")
    args = parser.parse_args()

    import torch
    from transformers import AutoModelForCausalLM, AutoTokenizer

    from lab.train.modeling import pick_runtime

    if args.threads:
        torch.set_num_threads(args.threads)
    convs = conversations(args.samples, seed=0)
    with tempfile.TemporaryDirectory() as tmp:
        model_dir = build_tiny_llama(Path(tmp) / "tiny", texts=[m["content"] for c in convs[:64] for m in c])
        tokenizer = AutoTokenizer.from_pretrained(model_dir)
        samples = [tokenize_messages(tokenizer, c, 1024) for c in convs]
        lengths = [len(s.input_ids) for s in samples]
        plan = plan_micro_batches(lengths, args.row, max(1, args.budget // args.row), epochs=1, seed=0)
        runtime = pick_runtime(TrainConfig(boundaries="mask4d"))
        results: dict[str, list[tuple[float, int, int]]] = {"padded": [], "packed": []}
        for repeat in range(args.repeats):
            for name in ("padded", "packed"):  # fresh model each time, alternating, so drift hits both
                torch.manual_seed(0)
                model = AutoModelForCausalLM.from_pretrained(model_dir, dtype=torch.float32, attn_implementation="sdpa")
                model.train()
                if name == "padded":
                    results[name].append(padded_epoch(model, samples, args.batch, tokenizer.pad_token_id, repeat))
                else:
                    results[name].append(packed_epoch(model, samples, plan, runtime))
    print(f"data: {len(samples)} samples, {sum(lengths)} tokens, lengths {min(lengths)}..{max(lengths)} "
          f"(median {statistics.median(lengths):.0f}); torch threads {torch.get_num_threads()}; CPU, fp32")
    print(f"packed: {len(plan)} micro-batches of <= {args.budget} tokens in rows of {args.row}, row fill "
          f"{packing_efficiency(lengths, plan, args.row):.1%}, non-padding {non_padding_share(lengths, plan):.1%}")
    speed = {}
    for name, runs in results.items():
        seconds = statistics.median(r[0] for r in runs)
        real, computed = runs[0][1], runs[0][2]
        speed[name] = real / seconds
        print(f"{name:>7}: real tokens {real}, computed {computed}, non-padding {real / computed:.1%}, "
              f"epoch {seconds:.2f} s (median of {len(runs)}), {speed[name]:,.0f} real tokens/s")
    print(f"ratio packed/padded tokens/s: {speed['packed'] / speed['padded']:.2f}x")
    return 0


if __name__ == "__main__":
    sys.exit(main())
