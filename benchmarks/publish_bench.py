"""Publishing benchmark: one release commit vs. a naive per-file upload, and GGUF q8_0 export paths.

Runs the baseline and ours side by side against the local Hub stand-in (real huggingface_hub
client, real HTTP on 127.0.0.1), on a small Llama built locally, and prints medians and ratios.

    .venv/bin/python benchmarks/publish_bench.py [--repeats 5] [--hidden 256] [--layers 4]
"""

from __future__ import annotations

import argparse
import ctypes
import statistics
import tempfile
import time
from pathlib import Path


def _median_time(fn, repeats: int) -> float:
    times = []
    for i in range(repeats):
        start = time.perf_counter()
        fn(i)
        times.append(time.perf_counter() - start)
    return statistics.median(times)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=5)
    parser.add_argument("--hidden", type=int, default=256)
    parser.add_argument("--layers", type=int, default=4)
    args = parser.parse_args()

    import llama_cpp
    from huggingface_hub import HfApi

    from lab.models.gguf_export import export_gguf
    from lab.publish.artifacts import stage_release
    from lab.publish.operations import plan_operations, to_hf_operations
    from sandbox.standins.hub import HubStandIn
    from sandbox.tiny import TinyConfig, build_tiny_llama

    tmp = Path(tempfile.mkdtemp(prefix="publish-bench-"))
    model = build_tiny_llama(tmp / "model", config=TinyConfig(hidden_size=args.hidden, num_layers=args.layers,
                                                               intermediate_size=args.hidden * 2, num_heads=8,
                                                               num_kv_heads=4))
    files, ggufs = stage_release(model, tmp / "staged", "bench", ("f16", "Q8_0"))
    files.update({g.name: g.path for g in ggufs.files})
    files_bytes = {p: f.read_bytes() for p, f in files.items()}
    size_mb = sum(len(b) for b in files_bytes.values()) / 1e6
    print(f"release: {len(files)} files, {size_mb:.1f} MB (hidden {args.hidden}, {args.layers} layers)")

    rows = []
    with HubStandIn(token="hf_bench_token_xxxxxxxx") as hub:
        api = HfApi(endpoint=hub.url, token="hf_bench_token_xxxxxxxx")

        def naive(i: int) -> None:
            repo = f"bench/naive-{i}"
            api.create_repo(repo, exist_ok=True)
            for path, data in files_bytes.items():
                api.upload_file(path_or_fileobj=data, path_in_repo=path, repo_id=repo)

        def ours(i: int) -> None:
            repo = f"bench/ours-{i}"
            api.create_repo(repo, exist_ok=True)
            api.create_commit(repo, to_hf_operations(plan_operations(files_bytes, [])), commit_message="release")

        t_naive = _median_time(naive, args.repeats)
        t_ours = _median_time(ours, args.repeats)
        commits_naive = len(hub.state.repos["bench/naive-0"].commits) - 1
        commits_ours = len(hub.state.repos["bench/ours-0"].commits) - 1
        rows.append(("upload a release", t_naive, t_ours, f"commits per release {commits_naive} vs {commits_ours}"))

    f32 = export_gguf(model, tmp / "f32.gguf", "f32")

    def quant_baseline(i: int) -> None:
        export_gguf(model, tmp / "b-f32.gguf", "f32")
        params = llama_cpp.llama_model_quantize_default_params()
        params.ftype = llama_cpp.LLAMA_FTYPE_MOSTLY_Q8_0
        llama_cpp.llama_model_quantize(str(tmp / "b-f32.gguf").encode(), str(tmp / "b-q8.gguf").encode(),
                                       ctypes.byref(params))

    def quant_ours(i: int) -> None:
        export_gguf(model, tmp / "o-q8.gguf", "q8_0")

    rows.append(("q8_0 GGUF from HF dir", _median_time(quant_baseline, args.repeats),
                 _median_time(quant_ours, args.repeats), "baseline: f32 GGUF + llama.cpp quantize"))
    del f32

    print(f"{'task':<24} {'baseline s':>11} {'ours s':>9} {'speed-up':>9}  note")
    for name, base, mine, note in rows:
        print(f"{name:<24} {base:>11.3f} {mine:>9.3f} {base / mine:>8.1f}x  {note}")


if __name__ == "__main__":
    main()
