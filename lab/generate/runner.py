"""Generate data for many leaves: cache lookups, documents, the pipeline, streaming output, manifest.

`generate_leaves` is the library entry point that `lab generate`, `ci.generate` and the retrain
use. A cached leaf is copied from the cache without touching the teacher; a failing leaf is
recorded with its reason and the run goes on with the next one.
"""

from __future__ import annotations

import dataclasses
import json
import shutil
import time
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Protocol

from lab.generate.backends.base import Backend
from lab.generate.cache import SdgCache, cache_key, default_cache_dir
from lab.generate.chunking import chunk_budget, chunk_markdown
from lab.generate.config import GenerateParams
from lab.generate.documents import DocsSettings, DocumentError, read_documents
from lab.generate.output import DatasetWriter, dumps, leaf_id
from lab.generate.pipeline import LeafPipeline, LeafStats
from lab.generate.prompts import PROMPT_VERSION, fixed_overhead_tokens
from lab.generate.staging import check_replaceable, failed_path, staging_for, swap_into_place
from lab.taxonomy.leaf import Leaf
from schemas.datacontract import MANIFEST_FILE
from schemas.masking import mask

MANIFEST_VERSION = 1
COMPLETIONS_NOTE = ("knowledge rows are the document's sentences to finish: a teacher under 1B parameters writes "
                    "questions that miss their answers (knowledge_answers: auto; 'extract' makes it ask)")


@dataclass
class LeafResult:
    leaf: str
    leaf_id: str
    kind: str
    leaf_hash: str
    status: str  # "ok" | "cached" | "collapsed" | "short" | "failed"
    message: str = ""
    rows: int = 0
    attempted: int = 0
    keep_rate: float = 0.0
    filters: dict[str, dict[str, int]] = field(default_factory=dict)
    parse_failures: dict[str, int] = field(default_factory=dict)
    requests: int = 0
    prompt_tokens: int = 0
    completion_tokens: int = 0
    backend_errors: int = 0
    error_examples: list[str] = field(default_factory=list)
    seconds: float = 0.0
    tokens_per_s: float = 0.0
    cache_key: str = ""
    dataset: str = ""  # path of leaves/<leaf-id>.jsonl, relative to the output directory


@dataclass
class Manifest:
    teacher: str
    prompt_version: str
    params: dict[str, Any]
    leaves: list[LeafResult] = field(default_factory=list)
    seconds: float = 0.0
    version: int = MANIFEST_VERSION
    replicas: list[dict[str, Any]] = field(default_factory=list)  # fanned-out runs: work and tokens/s per replica

    @property
    def rows(self) -> int:
        return sum(r.rows for r in self.leaves)

    def to_json(self) -> dict[str, Any]:
        data = {**dataclasses.asdict(self), "rows": self.rows}
        if not self.replicas:
            del data["replicas"]  # one teacher: the manifest reads as it always did
        return data


class Progress(Protocol):
    def leaf_started(self, leaf_id: str, total: int) -> None: ...
    def advance(self, n: int = 1) -> None: ...
    def leaf_finished(self, result: LeafResult) -> None: ...


class NoProgress:
    def leaf_started(self, leaf_id: str, total: int) -> None: ...
    def advance(self, n: int = 1) -> None: ...
    def leaf_finished(self, result: LeafResult) -> None: ...


def knowledge_chunks(leaf: Leaf, backend: Backend, params: GenerateParams, docs: DocsSettings) -> list[tuple[str, str]]:
    """(source file, chunk) pairs sized for the teacher: budget measured with its own tokenizer."""
    longest = sorted(leaf.seeds, key=lambda s: len(s.question) + len(s.answer), reverse=True)
    overhead = fixed_overhead_tokens(leaf, longest[: params.seeds_per_prompt], backend.count_tokens)
    budget = chunk_budget(backend.context_length, overhead, params.chunk_answer_tokens, params.chunk_max_tokens)
    try:
        if leaf.document is None:
            raise DocumentError("the leaf names no document")
        files = read_documents(leaf.document, docs)
    except DocumentError:
        if not params.docs_fallback_to_seed_contexts:
            raise
        contexts = dict.fromkeys(s.context for s in leaf.seeds if s.context)
        files = [("seed-contexts", "\n\n".join(contexts))]
    return [(name, chunk) for name, text in files for chunk in chunk_markdown(text, budget, backend.count_tokens)]


def _result(leaf: Leaf, status: str, key: str, stats: LeafStats | None, seconds: float, message: str = "") -> LeafResult:
    result = LeafResult(leaf=leaf.path, leaf_id=leaf_id(leaf), kind=leaf.kind, leaf_hash=leaf.content_hash,
                        status=status, message=mask(message), cache_key=key, seconds=round(seconds, 3),
                        dataset=f"leaves/{leaf_id(leaf)}.jsonl")
    if stats is not None:
        result.rows, result.attempted = stats.kept, stats.attempted
        result.keep_rate = round(stats.keep_rate, 4)
        result.filters = stats.filters.as_dict()
        result.parse_failures = dict(stats.filters.parse_failures)
        result.requests, result.backend_errors = stats.requests, stats.backend_errors
        result.error_examples = [mask(e) for e in stats.error_examples]  # a teacher may echo its key
        result.prompt_tokens, result.completion_tokens = stats.prompt_tokens, stats.completion_tokens
        result.tokens_per_s = round(stats.completion_tokens / seconds, 2) if seconds > 0 else 0.0
    return result


def _generate_one(leaf: Leaf, backend: Backend, params: GenerateParams, cache: SdgCache, writer: DatasetWriter,
                  progress: Progress, docs: DocsSettings) -> LeafResult:
    started = time.perf_counter()
    key = cache_key(leaf.content_hash, backend.teacher_id, params.cache_fields(), leaf_path=leaf.path)
    out = writer.open_leaf(leaf)
    try:
        hit = cache.lookup(key)
        if hit is not None:
            progress.leaf_started(leaf_id(leaf), hit.get("rows", 0))
            for row in cache.rows(key):
                out.write_line(mask(dumps(row)))
                progress.advance()
            result = LeafResult(**{k: v for k, v in hit["result"].items() if k in LeafResult.__dataclass_fields__})
            first = f" (first run: {result.status}; {result.message})" if result.status != "ok" else ""
            result.status, result.seconds = "cached", round(time.perf_counter() - started, 3)
            result.message = "reused cached data: no model work" + first
            return result
        progress.leaf_started(leaf_id(leaf), params.samples)
        try:
            chunks = knowledge_chunks(leaf, backend, params, docs) if leaf.kind == "knowledge" else None
            pipeline = LeafPipeline(leaf, backend, params, chunks)
        except (DocumentError, ValueError) as exc:
            return _result(leaf, "failed", key, None, time.perf_counter() - started, str(exc))
        pending = cache.begin(key)
        try:
            for row in pipeline.run():
                line = mask(dumps({**row, "metadata": {**row["metadata"], "teacher": backend.teacher_id}}))
                out.write_line(line)
                pending.write(line)
                progress.advance()
        except Exception as exc:  # a teacher that breaks mid-leaf fails this leaf, not the run
            pending.abort()
            return _result(leaf, "failed", key, pipeline.stats, time.perf_counter() - started,
                           f"the teacher failed: {type(exc).__name__}: {str(exc)[:300]}")
        except BaseException:
            pending.abort()
            raise
        stats = pipeline.stats
        if stats.backend_errors and stats.kept == 0:  # a dead, silent or hostile teacher: say so, plainly
            first = stats.error_examples[0] if stats.error_examples else "no detail"
            status, message = "failed", f"the teacher failed {stats.backend_errors} of {stats.requests} requests: {first}"
        elif stats.stopped:
            status, message = "collapsed", stats.stopped
        elif stats.kept < params.samples:
            status, message = "short", f"only {stats.kept} of {params.samples} rows after {stats.attempted} requests; {stats.filters.explain()}"
        else:
            status, message = "ok", ""
        if pipeline.cloze:  # say why the teacher wrote no knowledge question, where a reviewer reads the rows
            message = "; ".join(filter(None, [COMPLETIONS_NOTE, message]))
        result = _result(leaf, status, key, stats, time.perf_counter() - started, message)
        if stats.backend_errors:
            pending.abort()  # transient failures: the next run should try again
        else:
            pending.commit({"rows": stats.kept, "result": dataclasses.asdict(result)})
        return result
    finally:
        out.close()


def generate_leaves(leaves: Iterable[Leaf], backend: Backend, out_dir: Path | str, params: GenerateParams | None = None,
                    cache_dir: Path | str | None = None, progress: Progress | None = None,
                    docs: DocsSettings | None = None, keep_previous_if_failed: bool = False) -> Manifest:
    """Generate every leaf into `out_dir` (messages JSONL + manifest.json) and return the manifest.

    The run writes into a folder beside `out_dir` and swaps it in when it ends, so a run that raises
    leaves the previous output as it was. With `keep_previous_if_failed`, a run with a failed leaf or
    no rows is kept at `<out_dir>.failed` instead and the previous output stays too."""
    params = params or GenerateParams()
    params.check()
    cache = SdgCache(cache_dir if cache_dir is not None else default_cache_dir())
    docs = docs or DocsSettings.from_env()
    progress = progress or NoProgress()

    def one_by_one(writer: DatasetWriter) -> Iterator[LeafResult]:
        for leaf in leaves:
            yield _generate_one(leaf, backend, params, cache, writer, progress, docs)

    manifest = Manifest(teacher=backend.teacher_id, prompt_version=PROMPT_VERSION, params=params.cache_fields())
    return write_run(out_dir, manifest, one_by_one, progress, keep_previous_if_failed)


def write_run(out_dir: Path | str, manifest: Manifest, produce: Callable[[DatasetWriter], Iterator[LeafResult]],
              progress: Progress, keep_previous_if_failed: bool = False) -> Manifest:
    """Stage a run's output beside `out_dir`, let `produce` write its leaves in order, then swap it in."""
    out = Path(out_dir).resolve()
    check_replaceable(out)
    started = time.perf_counter()
    staging = staging_for(out)
    try:
        with DatasetWriter(staging) as writer:
            for result in produce(writer):
                manifest.leaves.append(result)
                progress.leaf_finished(result)
        manifest.seconds = round(time.perf_counter() - started, 3)
        (staging / MANIFEST_FILE).write_text(mask(json.dumps(manifest.to_json(), indent=2)), encoding="utf-8")
        failed = manifest.rows == 0 or any(r.status == "failed" for r in manifest.leaves)
        if failed and keep_previous_if_failed and out.exists():
            shutil.rmtree(failed_path(out), ignore_errors=True)
            staging.rename(failed_path(out))
        else:
            swap_into_place(staging, out)
            shutil.rmtree(failed_path(out), ignore_errors=True)  # an older failed run is no longer news
    finally:
        shutil.rmtree(staging, ignore_errors=True)  # gone already unless the run raised
    return manifest
