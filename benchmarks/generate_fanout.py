"""Generation fanned out over teacher replicas: N leaves on 1 replica vs 2, side by side in one run.

Each replica is the scripted teacher behind an OpenAI-compatible server with a fixed time per request
and a fixed number of requests in flight (`--latency-s`, `--capacity`): a stand-in for one GPU serving
a teacher, so the figure is the fan-out's, not this 2-core machine's. Each repeat generates the same
leaves from an empty cache through 1 replica and through 2 (alternating, same seed), checks the two
outputs are byte-identical, and prints each time, the medians and the ratio. `--ray` runs the leaves
as Ray tasks on a local Ray head (started once, not timed) instead of threads.

    .venv/bin/python benchmarks/generate_fanout.py [--leaves 8] [--samples 6] [--repeats 3] [--ray]
"""

from __future__ import annotations

import argparse
import contextlib
import statistics
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from lab.generate import GenerateParams  # noqa: E402
from lab.generate.fanout import (  # noqa: E402
    LEAVES_IN_FLIGHT_PER_REPLICA,
    TeacherReplicas,
    generate_leaves_fanned,
    ray_map,
    thread_map,
)
from lab.taxonomy.leaf import leaf_from_yaml  # noqa: E402
from sandbox.standins.teacher import MODEL, ScriptedTeacherServer  # noqa: E402
from tests.lab.generate.conftest import FREEFORM, GROUNDED  # noqa: E402


def leaves(n: int) -> list:
    """n leaves, alternating freeform and grounded skills, each at its own path (so each is generated)."""
    return [leaf_from_yaml(f"compositional_skills/bench/leaf_{i}/qna.yaml", FREEFORM if i % 2 else GROUNDED)
            for i in range(n)]


def run_once(urls: list[str], todo: list, params: GenerateParams, root: Path, use_ray: bool) -> tuple[float, dict]:
    mapper = ray_map() if use_ray else thread_map(LEAVES_IN_FLIGHT_PER_REPLICA * len(urls))
    started = time.perf_counter()
    manifest = generate_leaves_fanned(todo, TeacherReplicas(tuple(urls), model=MODEL), root / "out", params,
                                      cache_dir=root / "cache", mapper=mapper)
    seconds = time.perf_counter() - started
    assert manifest.rows > 0 and all(r.status == "ok" for r in manifest.leaves), [r.message for r in manifest.leaves]
    files = {p.relative_to(root / "out").as_posix(): p.read_bytes() for p in sorted((root / "out").rglob("*.jsonl"))}
    return seconds, files


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--leaves", type=int, default=8)
    parser.add_argument("--samples", type=int, default=6)
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--latency-s", type=float, default=0.05, help="each request's time on a replica")
    parser.add_argument("--capacity", type=int, default=2, help="requests one replica works on at once")
    parser.add_argument("--ray", action="store_true", help="Ray tasks on a local head instead of threads")
    args = parser.parse_args()
    todo, params = leaves(args.leaves), GenerateParams(samples=args.samples, max_attempts_factor=6.0)
    times: dict[int, list[float]] = {1: [], 2: []}
    with contextlib.ExitStack() as stack:
        servers = [stack.enter_context(ScriptedTeacherServer(args.latency_s, args.capacity)) for _ in range(2)]
        if args.ray:
            import ray

            from sandbox.raycluster import local_ray_cluster
            head = stack.enter_context(local_ray_cluster(num_cpus=2))
            ray.init(address=head.gcs_address, logging_level="ERROR", log_to_driver=False)
            stack.callback(ray.shutdown)
        for repeat in range(args.repeats):
            outputs = {}
            for n in ((1, 2) if repeat % 2 == 0 else (2, 1)):
                with tempfile.TemporaryDirectory(prefix="fanout-bench-") as tmp:
                    seconds, outputs[n] = run_once([s.url for s in servers[:n]], todo, params, Path(tmp), args.ray)
                times[n].append(seconds)
                print(f"repeat {repeat + 1}: {n} replica{'s' if n > 1 else ''}: {seconds:.2f} s", flush=True)
            assert outputs[1] == outputs[2], "1 and 2 replicas wrote different bytes"
    one, two = statistics.median(times[1]), statistics.median(times[2])
    print(f"\n{args.leaves} leaves x {args.samples} samples, replica: {args.latency_s * 1000:.0f} ms/request, "
          f"{args.capacity} at once; tasks on {'Ray' if args.ray else 'threads'}")
    print(f"median 1 replica {one:.2f} s, 2 replicas {two:.2f} s: speed-up {one / two:.2f}x; outputs byte-identical")


if __name__ == "__main__":
    main()
