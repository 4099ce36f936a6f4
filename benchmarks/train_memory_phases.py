"""Where a training step's memory goes: peak RSS per phase, and what glibc's malloc holds against what is in use.

Run: .venv/bin/python benchmarks/train_memory_phases.py [lora|full] [ROWS] [SEQ] [--default-allocator]

One micro-batch of ROWS x SEQ tokens (default: LoRA, 4 x 512, the shape where the estimate was 0.46x of
the peak) through the packaged real student (smollm2-135m-instruct), loaded as `lab train` loads it:
forward, backward, one AdamW step. A thread samples RSS every few milliseconds and, at each new peak,
malloc's bytes in use and bytes held (mallinfo2: in-use chunks plus mmapped blocks, and the heap plus
mmapped blocks). `--default-allocator` skips lab.train.memory.release_freed_activations (glibc's own
mmap threshold), to see what the heap keeps without it. Linux with glibc only.
"""

from __future__ import annotations

import ctypes
import resource
import sys
import threading
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "benchmarks"))

GiB = 2**30
SAMPLE_S = 0.005


class MallInfo2(ctypes.Structure):
    _fields_ = [(name, ctypes.c_size_t) for name in ("arena", "ordblks", "smblks", "hblks", "hblkhd", "usmblks",
                                                      "fsmblks", "uordblks", "fordblks", "keepcost")]


class Sampler:
    """Peak RSS per phase label, with malloc's in-use and held bytes at that peak."""

    def __init__(self) -> None:
        self.libc = ctypes.CDLL("libc.so.6")
        self.libc.mallinfo2.restype = MallInfo2
        self.label, self.peaks, self.order = "start", {}, ["start"]
        threading.Thread(target=self._run, daemon=True).start()

    def mark(self, label: str) -> None:
        self.label = label
        self.order.append(label)

    def _run(self) -> None:
        while True:
            with open("/proc/self/statm", encoding="ascii") as handle:
                rss = int(handle.read().split()[1]) * 4096
            label = self.label
            if rss > self.peaks.get(label, (0, 0, 0))[0]:
                info = self.libc.mallinfo2()
                self.peaks[label] = (rss, info.uordblks + info.hblkhd, info.arena + info.hblkhd)
            time.sleep(SAMPLE_S)


def step(sampler: Sampler, method: str, rows: int, seq: int, default_allocator: bool) -> str:
    """Load, one forward/backward/AdamW step; the estimate's terms."""
    import torch
    import train_memory

    from lab.models.student import resolve_student
    from lab.train import memory, modeling
    from lab.train.config import TrainConfig, apply_overrides
    from lab.train.packing import pack_row
    from lab.train.tokenize import tokenize_records

    if default_allocator:
        memory.release_freed_activations = lambda: False
        modeling.release_freed_activations = lambda: False
    base = resolve_student(train_memory.MODEL)
    config = apply_overrides(TrainConfig(), {"method": method, "max_seq_len": seq, "max_tokens_per_micro_batch": rows * seq})
    runtime = modeling.pick_runtime(config, 0)
    sampler.mark("load")
    tokenizer, model = modeling.load_tokenizer(base), modeling.load_model(base, config, runtime)
    samples, _ = tokenize_records(tokenizer, train_memory.conversations(rows, seq), seq)
    batch = [pack_row([sample]) for sample in samples[:rows]]
    model.train()
    sampler.mark("forward")
    loss = modeling.batch_loss_sum(model, batch, runtime) / 100
    sampler.mark("backward")
    loss.backward()
    sampler.mark("optimizer")
    optimizer = torch.optim.AdamW([p for p in model.parameters() if p.requires_grad], lr=1e-5, foreach=False)
    optimizer.step()
    sampler.mark("end")
    time.sleep(0.05)
    return memory.estimate_memory(model, config).describe()


def main() -> int:
    args = [a for a in sys.argv[1:] if not a.startswith("--")]
    method, rows, seq = (args + ["lora", "4", "512"][len(args):])[:3]
    sampler = Sampler()
    terms = step(sampler, method, int(rows), int(seq), "--default-allocator" in sys.argv)
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024
    print(f"{method} {rows}x{seq}: peak RSS {peak / GiB:.2f} GiB; estimate {terms}")
    for label in dict.fromkeys(sampler.order):
        if label in sampler.peaks:
            rss, live, held = sampler.peaks[label]
            print(f"  {label:10} peak RSS {rss / GiB:.2f} GiB  malloc in use {live / GiB:.2f}  held {held / GiB:.2f}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
