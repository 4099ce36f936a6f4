"""Generation fanned out over teacher replicas: each leaf is a task, sent to one replica's OpenAI-compatible
endpoint (vLLM on a GPU node in production; llama.cpp's server or a stub in tests).

A task runs the same per-leaf code as the local path (`runner._generate_one`: the cache, the pipeline and
its filters), into a private folder, and returns the leaf's lines; the driver writes them in leaf order
with the same writer and manifest. Replicas of one teacher share one teacher id, so the cache keys, the
rows and the output bytes are those of the local path for the same seed, however the leaves were spread.
Tasks run on a Ray cluster (`ray_map`) or, on one machine, in threads (`thread_map`).
"""

from __future__ import annotations

import tempfile
import time
from collections.abc import Callable, Iterator, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from lab.generate.cache import SdgCache, default_cache_dir
from lab.generate.config import GenerateParams
from lab.generate.documents import DocsSettings
from lab.generate.output import DatasetWriter, leaf_id
from lab.generate.prompts import PROMPT_VERSION
from lab.generate.runner import LeafResult, Manifest, NoProgress, Progress, _generate_one, write_run
from lab.taxonomy.leaf import Leaf
from schemas.datacontract import leaf_file
from schemas.masking import mask

Task = tuple[int, Leaf]  # (replica index, leaf)
LEAVES_IN_FLIGHT_PER_REPLICA = 2  # a replica starts a leaf's first stage while finishing another's last
Mapper = Callable[[Callable[[Task], "LeafOutput"], Sequence[Task]], Iterator["LeafOutput"]]  # results in task order


@dataclass(frozen=True)
class TeacherReplicas:
    """One teacher served by several identical endpoints."""
    urls: tuple[str, ...]
    model: str | None = None  # the served model's name; asked of the first replica when not given
    options: tuple[tuple[str, Any], ...] = ()  # OpenAIBackend options (concurrency, timeouts, guided...)

    def teacher_id(self, model: str) -> str:
        """The same for every replica (and for the local path given it): the cache and the rows agree."""
        return f"replicas:{model}"


@dataclass(frozen=True)
class LeafOutput:
    replica: int
    lines: list[str]
    result: LeafResult
    seconds: float


def _backend(replicas: TeacherReplicas, index: int, model: str):
    from lab.generate.backends.openai_http import OpenAIBackend

    return OpenAIBackend(replicas.urls[index], model=model, teacher_id=replicas.teacher_id(model),
                         **dict(replicas.options))


def generate_leaf_on_replica(task: Task, replicas: TeacherReplicas, model: str, params: GenerateParams,
                             cache_dir: str, docs: DocsSettings) -> LeafOutput:
    """One leaf on one replica, as the local path would make it; runs inside a Ray task or a thread."""
    index, leaf = task
    started = time.perf_counter()
    backend = _backend(replicas, index, model)
    try:
        with tempfile.TemporaryDirectory(prefix="arborist-leaf-") as tmp:
            with DatasetWriter(tmp) as writer:
                result = _generate_one(leaf, backend, params, SdgCache(cache_dir), writer, NoProgress(), docs)
            lines = (Path(tmp) / leaf_file(leaf_id(leaf))).read_text(encoding="utf-8")
    finally:
        backend.close()
    return LeafOutput(index, lines.splitlines(keepends=True), result, time.perf_counter() - started)


def thread_map(workers: int) -> Mapper:
    """Tasks in a thread pool on this machine (the replicas do the heavy work)."""
    def run(fn: Callable[[Task], LeafOutput], tasks: Sequence[Task]) -> Iterator[LeafOutput]:
        with ThreadPoolExecutor(max_workers=max(1, workers), thread_name_prefix="fanout") as pool:
            yield from pool.map(fn, tasks)
    return run


def ray_map(num_cpus: float = 0.5) -> Mapper:
    """Tasks on the Ray cluster this process is connected to (`ray.init` first); results in task order."""
    import ray

    def run(fn: Callable[[Task], LeafOutput], tasks: Sequence[Task]) -> Iterator[LeafOutput]:
        remote = ray.remote(num_cpus=num_cpus, max_retries=2)(fn)
        refs = [remote.remote(task) for task in tasks]
        for ref in refs:
            yield ray.get(ref)
    return run


def replica_stats(outputs: Sequence[LeafOutput], urls: Sequence[str], wall_s: float) -> list[dict[str, Any]]:
    """Per replica: leaves, requests and completion tokens/s over the time its leaves took; then overall."""
    rows: list[dict[str, Any]] = []
    for index, url in enumerate(urls):
        mine = [o for o in outputs if o.replica == index]
        busy = sum(o.seconds for o in mine)
        tokens = sum(o.result.completion_tokens for o in mine)
        rows.append({"replica": mask(url), "leaves": len(mine), "requests": sum(o.result.requests for o in mine),
                     "completion_tokens": tokens, "busy_s": round(busy, 3),
                     "completion_tokens_per_s": round(tokens / busy, 2) if busy > 0 else 0.0})
    total = sum(o.result.completion_tokens for o in outputs)
    rows.append({"replica": "all", "leaves": len(outputs), "requests": sum(o.result.requests for o in outputs),
                 "completion_tokens": total, "busy_s": round(wall_s, 3),
                 "completion_tokens_per_s": round(total / wall_s, 2) if wall_s > 0 else 0.0})
    return rows


def generate_leaves_fanned(leaves: Sequence[Leaf], replicas: TeacherReplicas, out_dir: Path | str,
                           params: GenerateParams | None = None, cache_dir: Path | str | None = None,
                           mapper: Mapper | None = None, progress: Progress | None = None,
                           docs: DocsSettings | None = None, keep_previous_if_failed: bool = False) -> Manifest:
    """Like `runner.generate_leaves`, with leaf i on replica i mod N; the manifest adds tokens/s per replica."""
    if not replicas.urls:
        raise ValueError("no teacher replicas given")
    params = params or GenerateParams()
    params.check()
    docs = docs or DocsSettings.from_env()
    progress = progress or NoProgress()
    model = replicas.model or _served_model(replicas)
    cache = str(cache_dir if cache_dir is not None else default_cache_dir())
    tasks = [(i % len(replicas.urls), leaf) for i, leaf in enumerate(leaves)]
    run = mapper or thread_map(LEAVES_IN_FLIGHT_PER_REPLICA * len(replicas.urls))
    outputs: list[LeafOutput] = []

    def task(t: Task) -> LeafOutput:
        return generate_leaf_on_replica(t, replicas, model, params, cache, docs)

    def in_order(writer: DatasetWriter) -> Iterator[LeafResult]:
        for (_, leaf), output in zip(tasks, run(task, tasks), strict=True):
            progress.leaf_started(leaf_id(leaf), len(output.lines))
            out = writer.open_leaf(leaf)
            for line in output.lines:
                out.write_line(line)
                progress.advance()
            out.close()
            outputs.append(output)
            yield output.result
        manifest.replicas = replica_stats(outputs, replicas.urls, time.perf_counter() - started)

    started = time.perf_counter()
    manifest = Manifest(teacher=replicas.teacher_id(model), prompt_version=PROMPT_VERSION,
                        params=params.cache_fields())
    return write_run(out_dir, manifest, in_order, progress, keep_previous_if_failed)


def _served_model(replicas: TeacherReplicas) -> str:
    """The model the first replica serves (GET /models), the name every replica is asked for."""
    from lab.generate.backends.openai_http import OpenAIBackend

    probe = OpenAIBackend(replicas.urls[0], **dict(replicas.options))
    try:
        return probe.model
    finally:
        probe.close()


def replicas_in(teacher: str) -> TeacherReplicas | None:
    """A teacher spec of several comma-separated http(s) URLs is one teacher served by replicas; else None."""
    from lab.generate.backends import BackendError

    urls = tuple(part.strip() for part in teacher.split(",") if part.strip())
    if len(urls) < 2:
        return None
    bad = [url for url in urls if not url.startswith(("http://", "https://"))]
    if bad:
        raise BackendError(f"teacher replicas must be http(s) URLs of OpenAI-compatible servers; not: {mask(bad[0])!r}")
    return TeacherReplicas(urls)


def mapper_from_env(replicas: int, environ: dict[str, str] | None = None) -> Mapper:
    """ARBORIST_FANOUT=ray: Ray tasks on the cluster this job runs on (RAY_ADDRESS, else `auto`); default threads."""
    from lab.scale_settings import ScaleSettings

    settings = ScaleSettings.from_environ(environ)
    if settings.fanout == "threads":
        return thread_map(LEAVES_IN_FLIGHT_PER_REPLICA * replicas)
    settings.connect_ray()
    return ray_map()


def load_teacher(teacher: str, **backend_options: Any) -> Any:
    """A teacher spec to what `generate_with` takes: replicas of one teacher (several URLs) or one backend.
    Raises what `load_backend` raises (BackendError, TeacherNotFound); close it with `close_backend`."""
    from lab.generate.backends import load_backend

    replicas = replicas_in(teacher)
    return replicas if replicas is not None else load_backend(teacher, **backend_options)


def generate_with(teacher: Any, leaves: Sequence[Leaf], out_dir: Path | str, params: GenerateParams,
                  **options: Any) -> Manifest:
    """Generate with what `load_teacher` gave: replicas fan the leaves out, one backend runs them here."""
    from lab.generate.runner import generate_leaves

    if isinstance(teacher, TeacherReplicas):
        return generate_leaves_fanned(leaves, teacher, out_dir, params,
                                      mapper=mapper_from_env(len(teacher.urls)), **options)
    return generate_leaves(leaves, teacher, out_dir, params, **options)
