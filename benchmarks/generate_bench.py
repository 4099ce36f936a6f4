"""Benchmark lab.generate: pipeline overhead, batching, cache re-runs, and memory against leaves and samples.

Run: .venv/bin/python benchmarks/generate_bench.py [--repeats 3]

1. Overhead: leaves generated through the pipeline, versus the same backend called directly with
   exactly the prompts the pipeline sent (recorded, then replayed at once; ratio per pair, median),
   and the time outside the backend within one run. Teacher: a tiny random Llama as
   GGUF via llama-cpp-python, and the same shape with 8 layers to show how the ratio moves with cost.
2. Batching: the same 32 prompts one at a time versus batched: transformers (batch 8 vs 1), an
   OpenAI-compatible stub server with 50 ms latency per request (8 in flight vs 1), and llama-cpp
   with 2 contexts versus 1 on 8 prompts.
3. Cache: a first run over 3 leaves versus a re-run on unchanged leaves (llama-cpp teacher).
4. Memory: peak Python allocations (tracemalloc) of generate_leaves with the scripted teacher while
   the number of leaves and of samples grows.
Everything is built locally; nothing is downloaded.
"""

from __future__ import annotations

import argparse
import gc
import json
import statistics
import sys
import tempfile
import time
import tracemalloc
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "tests" / "lab" / "generate"))

from lab.generate import GenerateParams, ScriptedBackend, generate_leaves  # noqa: E402
from lab.generate.backends import load_backend  # noqa: E402
from lab.taxonomy.leaf import leaf_from_yaml  # noqa: E402

EXAMPLES = ROOT / "examples" / "taxonomy"
FREEFORM = EXAMPLES / "compositional_skills" / "writing" / "freeform" / "haiku" / "qna.yaml"
GROUNDED = EXAMPLES / "compositional_skills" / "grounded" / "extraction" / "meeting_actions" / "qna.yaml"


def leaf(path: Path, alias: str | None = None):
    rel = alias or path.relative_to(EXAMPLES).as_posix()
    return leaf_from_yaml(rel, path.read_bytes())


def median_time(fn, repeats: int) -> float:
    times = []
    for _ in range(repeats):
        gc.collect()
        start = time.perf_counter()
        fn()
        times.append(time.perf_counter() - start)
    return statistics.median(times)


def interleaved(a, b, repeats: int) -> tuple[float, float]:
    """Medians of a and b run alternately, so a busy machine slows both alike."""
    times_a, times_b = [], []
    for _ in range(repeats):
        times_a.append(median_time(a, 1))
        times_b.append(median_time(b, 1))
    return statistics.median(times_a), statistics.median(times_b)


class Recorder:
    """Wraps a backend and keeps every call, so the same work can be replayed without the pipeline."""

    def __init__(self, backend) -> None:
        self.backend, self.calls = backend, []
        self.teacher_id, self.context_length = backend.teacher_id, backend.context_length
        self.count_tokens = backend.count_tokens

    def complete(self, prompts, **kw):
        self.calls.append((list(prompts), dict(kw)))
        return self.backend.complete(prompts, **kw)


class Timed:
    """Wraps a backend and sums the time spent inside it: the rest of a run is the pipeline's own cost."""

    def __init__(self, backend) -> None:
        self.backend, self.inside = backend, 0.0
        self.teacher_id, self.context_length = backend.teacher_id, backend.context_length
        self.count_tokens = backend.count_tokens

    def complete(self, prompts, **kw):
        start = time.perf_counter()
        try:
            return self.backend.complete(prompts, **kw)
        finally:
            self.inside += time.perf_counter() - start


def build_models(work: Path) -> dict[str, Path]:
    from lab.models.gguf_export import export_gguf
    from sandbox.tiny import TinyConfig, build_tiny_llama

    small = build_tiny_llama(work / "hf-2l")
    deep = build_tiny_llama(work / "hf-8l", config=TinyConfig(hidden_size=256, intermediate_size=688, num_layers=8,
                                                              num_heads=8, num_kv_heads=4))
    return {"hf-2l": small, "gguf-2l": export_gguf(small, work / "tiny-2l.gguf"),
            "gguf-8l": export_gguf(deep, work / "tiny-8l.gguf")}


def bench_overhead(models, work: Path, repeats: int) -> list[dict]:
    """Each repeat: a pipeline run (fresh cache) recording its calls, then at once the same calls made
    directly; the ratio is taken per pair (same tokens, checked), then the median over pairs."""
    rows = []
    params = GenerateParams(samples=4, max_new_tokens=32, batch_size=8, collapse_min_attempts=1000,
                            max_attempts_factor=2.0)
    leaves = [leaf(FREEFORM), leaf(GROUNDED)]
    for name in ("gguf-2l", "gguf-8l"):
        backend = load_backend(str(models[name]))
        pairs, timed_runs = [], []
        for i in range(repeats):
            recorder = Recorder(backend)
            gc.collect()
            start = time.perf_counter()
            manifest = generate_leaves(leaves, recorder, work / "o", params, cache_dir=work / f"c-{name}-{i}")
            t_pipe = time.perf_counter() - start
            start = time.perf_counter()
            replies = [backend.complete(prompts, **kw) for prompts, kw in recorder.calls]
            t_direct = time.perf_counter() - start
            same = sum(r.completion_tokens for r in manifest.leaves) == sum(c.completion_tokens for o in replies for c in o)
            pairs.append((t_pipe, t_direct, same))
            timed = Timed(backend)
            start = time.perf_counter()
            generate_leaves(leaves, timed, work / "o", params, cache_dir=work / f"c-timed-{name}-{i}")
            timed_runs.append((time.perf_counter() - start, timed.inside))
        total, inside = statistics.median(t for t, _ in timed_runs), statistics.median(t for _, t in timed_runs)
        rows.append({"teacher": name, "requests": sum(len(p) for p, _ in recorder.calls),
                     "direct_s": statistics.median(d for _, d, _ in pairs),
                     "pipeline_s": statistics.median(p for p, _, _ in pairs),
                     "overhead": statistics.median(p / d - 1 for p, d, _ in pairs),
                     "same_tokens": all(same for *_, same in pairs),
                     "in_run_total_s": total, "in_run_backend_s": inside,
                     "in_run_overhead": statistics.median((t - i) / i for t, i in timed_runs)})
        backend.close()
    return rows


def bench_batching(models, repeats: int) -> list[dict]:
    import torch
    from stub_server import StubServer, chat_reply

    from lab.generate.backends.openai_http import OpenAIBackend
    from lab.generate.prompts import QUESTION_SCHEMA, question_prompt

    haiku = leaf(FREEFORM)
    prompts = [question_prompt(haiku, list(haiku.seeds[i % 5: i % 5 + 3])) for i in range(32)]
    torch.set_num_threads(1)  # a busy shared CPU: one thread each way, so threads do not fight
    rows = []
    hf1, hf8 = load_backend(str(models["hf-2l"]), batch_size=1), load_backend(str(models["hf-2l"]), batch_size=8)
    tokens = {}

    def run_hf(backend, key):
        tokens[key] = sum(c.completion_tokens for c in backend.complete(prompts, max_new_tokens=32, temperature=0.7, seed=0))

    t1, t8 = interleaved(lambda: run_hf(hf1, 1), lambda: run_hf(hf8, 8), repeats)
    rows.append({"backend": "transformers", "in_flight": 1, "seconds": t1, "tokens": tokens[1]})
    rows.append({"backend": "transformers", "in_flight": 8, "seconds": t8, "tokens": tokens[8]})
    llamas = {k: load_backend(str(models["gguf-8l"]), parallel=k) for k in (1, 2)}

    def run_llama(k):
        out = llamas[k].complete(prompts[:8], max_new_tokens=32, temperature=0.7, seed=0, schema=QUESTION_SCHEMA)
        tokens[f"llama{k}"] = sum(c.completion_tokens for c in out)

    t1, t2 = interleaved(lambda: run_llama(1), lambda: run_llama(2), repeats)
    name = "llama-cpp 8-layer, 8 prompts"
    rows.append({"backend": name, "in_flight": 1, "seconds": t1, "tokens": tokens["llama1"]})
    rows.append({"backend": name, "in_flight": 2, "seconds": t2, "tokens": tokens["llama2"]})
    for llama in llamas.values():
        llama.close()
    with StubServer(lambda body, i: (200, chat_reply('{"question": "q"}'), {}, 0.05)) as stub:
        https = {k: OpenAIBackend(stub.url, concurrency=k) for k in (1, 8)}

        def run_http(k):
            https[k].complete(prompts, max_new_tokens=32, temperature=0.7, seed=0, schema=QUESTION_SCHEMA)

        t1, t8 = interleaved(lambda: run_http(1), lambda: run_http(8), repeats)
        rows.append({"backend": "http stub (50 ms/request)", "in_flight": 1, "seconds": t1})
        rows.append({"backend": "http stub (50 ms/request)", "in_flight": 8, "seconds": t8})
        for http in https.values():
            http.close()
    return rows


def bench_cache(models, work: Path, repeats: int) -> dict:
    backend = load_backend(str(models["gguf-2l"]))
    leaves = [leaf(FREEFORM), leaf(GROUNDED), leaf(FREEFORM, "compositional_skills/writing/freeform/haiku2/qna.yaml")]
    params = GenerateParams(samples=8, max_new_tokens=48, collapse_min_attempts=1000)
    firsts, reruns = [], []
    for i in range(repeats):
        cache = work / f"cache-{i}"
        start = time.perf_counter()
        generate_leaves(leaves, backend, work / "first", params, cache_dir=cache)
        firsts.append(time.perf_counter() - start)
        start = time.perf_counter()
        manifest = generate_leaves(leaves, backend, work / "rerun", params, cache_dir=cache)
        reruns.append(time.perf_counter() - start)
        assert all(r.status == "cached" for r in manifest.leaves)
    return {"first_s": statistics.median(firsts), "rerun_s": statistics.median(reruns)}


def bench_memory(work: Path) -> list[dict]:
    rows = []
    for n_leaves, samples in ((5, 20), (50, 20), (5, 200)):
        leaves = [leaf(FREEFORM, f"compositional_skills/bench/l{i}/qna.yaml") for i in range(n_leaves)]
        gc.collect()
        tracemalloc.start()
        manifest = generate_leaves(leaves, ScriptedBackend(), work / "mem", GenerateParams(samples=samples),
                                   cache_dir=work / f"mem-cache-{n_leaves}-{samples}")
        _, peak = tracemalloc.get_traced_memory()
        tracemalloc.stop()
        size = sum(f.stat().st_size for f in (work / "mem").rglob("*.jsonl"))
        rows.append({"leaves": n_leaves, "samples": samples, "rows": manifest.rows, "data_bytes": size, "peak_bytes": peak})
    return rows


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--json", action="store_true", help="print the raw figures as JSON too")
    parser.add_argument("--parts", default="overhead,batching,cache,memory", help="comma-separated parts to run")
    args = parser.parse_args()
    parts = set(args.parts.split(","))
    overhead: list[dict] = []
    batching: list[dict] = []
    cache: dict = {}
    memory: list[dict] = []
    with tempfile.TemporaryDirectory() as tmp:
        work = Path(tmp)
        models = build_models(work)
        if "overhead" in parts:
            overhead = bench_overhead(models, work, args.repeats)
        if "batching" in parts:
            batching = bench_batching(models, args.repeats)
        if "cache" in parts:
            cache = bench_cache(models, work, args.repeats)
        if "memory" in parts:
            memory = bench_memory(work)
    print(f"## pipeline overhead (median of {args.repeats})")
    for r in overhead:
        print(f"{r['teacher']:>8}: {r['requests']} requests, direct {r['direct_s']:.3f} s, pipeline {r['pipeline_s']:.3f} s, "
              f"overhead {r['overhead']:+.1%} (same tokens: {r['same_tokens']}); in one run: {r['in_run_total_s']:.3f} s total, "
              f"{r['in_run_backend_s']:.3f} s inside the backend, pipeline's own share {r['in_run_overhead']:+.2%}")
    print("## batched vs one at a time (32 prompts)")
    by = {(r["backend"], r["in_flight"]): r["seconds"] for r in batching}
    for backend in dict.fromkeys(r["backend"] for r in batching):
        widths = sorted(k for b, k in by if b == backend)
        one, many = by[(backend, widths[0])], by[(backend, widths[-1])]
        print(f"{backend}: 1 in flight {one:.3f} s, {widths[-1]} in flight {many:.3f} s, speedup x{one / many:.1f}")
    for r in batching:
        if "tokens" in r:
            print(f"  {r['backend']} {r['in_flight']} in flight: {r['tokens']} tokens, {r['tokens'] / r['seconds']:.0f} tokens/s")
    if cache:
        print("## cache")
        print(f"first run {cache['first_s']:.3f} s, re-run on unchanged leaves {cache['rerun_s']:.3f} s, "
              f"x{cache['first_s'] / cache['rerun_s']:.0f} faster")
    print("## memory (scripted teacher, tracemalloc peak)")
    for r in memory:
        print(f"{r['leaves']:>3} leaves x {r['samples']:>3} samples: {r['rows']:>5} rows, {r['data_bytes'] / 1e6:.2f} MB written, "
              f"peak {r['peak_bytes'] / 1e6:.2f} MB")
    if args.json:
        print(json.dumps({"overhead": overhead, "batching": batching, "cache": cache, "memory": memory}, indent=1))
    return 0


if __name__ == "__main__":
    sys.exit(main())
