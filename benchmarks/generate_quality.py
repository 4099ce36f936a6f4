"""Junk in generated data with a real small teacher, before and after the issue-12 filters, on labelled rows.

Run: .venv/bin/python benchmarks/generate_quality.py [--teacher smollm2-135m-instruct] [--samples 10]
     [--leaf storytelling|chickadee|knowledge|freeform] [--seed N] [--answer-temperature T] [--no-how-to-openings]
     [--rows benchmarks/data/generate_quality_rows.jsonl] [--labels benchmarks/generate_quality_labels.yaml]
     [--report-only]   # figures again from the saved rows and the labels, no model
     [--replay FILE]   # answer from (and record to) a file of the teacher's replies: filter work reruns fast
     [--unlabelled]    # print the kept rows the labels file has no verdict for, as YAML to fill in

Real leaves go through `lab generate`'s pipeline with the teacher: freeform skills (the InstructLab
taxonomy's synonyms leaf from the shared fixtures, or the repository's haiku example; with `--leaf
storytelling`, the storytelling leaf of taxonomy pull request #129) and knowledge leaves (the
repository's moon-phases example and, with `--leaf chickadee`, the InstructLab taxonomy's black-capped
chickadee leaf from the shared fixtures; their seed contexts stand in for the document, which is not
fetched here). With a teacher under 1B parameters the knowledge rows are sentence completions and ask
the teacher nothing (`knowledge_answers: auto`). Every row is written to --rows: kept ones and dropped ones with the filter that
dropped them. "Before" is what the filters of before issue 12 (parse, word counts with one-word
answers allowed, near-duplicates) keep of the same candidates: the kept rows plus those only a new
filter dropped; questions a new question filter dropped are answered here so they can be judged.
The labels file holds a reviewer's verdict per row id (junk or ok, with the reason); the script
prints the junk rate of labelled kept rows before and after, and each filter's seen/kept.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import sys
import time
from collections import Counter
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from benchmarks.teacher_replay import ReplayBackend  # noqa: E402
from lab.generate import prompts as P  # noqa: E402
from lab.generate.backends import close_backend, load_backend  # noqa: E402
from lab.generate.config import GenerateParams  # noqa: E402
from lab.generate.documents import DocsSettings  # noqa: E402
from lab.generate.filters import length_ok  # noqa: E402
from lab.generate.parse import parse_reply  # noqa: E402
from lab.generate.pipeline import LeafPipeline  # noqa: E402
from lab.generate.rouge import NearDuplicates  # noqa: E402
from lab.generate.runner import knowledge_chunks  # noqa: E402
from lab.taxonomy.leaf import Leaf, leaf_from_yaml  # noqa: E402

FIXTURES = Path(os.environ.get("ARBORIST_FIXTURES", ROOT.parent / "shared" / "fixtures"))  # as the tests find it
SYNONYMS = FIXTURES / "taxonomy" / "compositional_skills" / "linguistics" / "synonyms" / "qna.yaml"
EXAMPLES = ROOT / "examples" / "taxonomy"
HAIKU = EXAMPLES / "compositional_skills" / "writing" / "freeform" / "haiku" / "qna.yaml"
MOON = EXAMPLES / "knowledge" / "science" / "astronomy" / "moon_phases" / "qna.yaml"
# A contributor's freeform skill leaf from a real taxonomy pull request (#129): questions about the craft of
# storytelling, a subject a 135M teacher can write about (it cannot list synonyms: see docs/benchmarks.md).
STORYTELLING = FIXTURES / "taxonomy-prs" / "pr-129" / "compositional_skills" / "writing" / "freeform" / "storytelling" / "qna.yaml"
CHICKADEE = FIXTURES / "taxonomy" / "knowledge" / "science" / "animals" / "birds" / "black_capped_chickadee" / "qna.yaml"
DEFAULT_ROWS = ROOT / "benchmarks" / "data" / "generate_quality_rows.jsonl"
DEFAULT_LABELS = ROOT / "benchmarks" / "generate_quality_labels.yaml"
NEW_FILTERS = ("incomplete:question", "incomplete:answer", "echo", "off-topic", "off-task", "repetitive", "copies-seed", "list-shape",
               "grounding", "safety",
               "length:answer")
OLD = {"min_question_words": 3, "min_answer_words": 1}  # the word counts before issue 12


def row_id(question: str, answer: str) -> str:
    return hashlib.sha256(f"{question.strip()}\0{answer.strip()}".encode()).hexdigest()[:12]


def read_leaf(path: Path) -> Leaf:
    """The leaf at its path in the taxonomy: from its top folder (knowledge, compositional_skills) on."""
    top = next(i for i, part in enumerate(path.parts) if part in ("knowledge", "compositional_skills"))
    return leaf_from_yaml("/".join(path.parts[top:]), path.read_bytes())


def old_filters_keep(question: str, answer: str, params: GenerateParams) -> bool:
    return (length_ok(question, OLD["min_question_words"], params.max_question_chars)
            and length_ok(answer, OLD["min_answer_words"], params.max_answer_chars))


class TimeUp(Exception):
    """The teacher's time for this run is spent (--minutes), or --replay-only met a request not recorded."""


class Bounded:
    """The teacher, refusing new requests after `deadline` (time.monotonic()): the leaf ends with what it has."""

    def __init__(self, backend, deadline: float) -> None:
        self.backend, self.deadline = backend, deadline
        self.parameters = getattr(backend, "parameters", None)
        self.context_length = backend.context_length
        self.teacher_id = backend.teacher_id

    def count_tokens(self, text: str) -> int:
        return self.backend.count_tokens(text)

    def complete(self, prompts, **kwargs):
        if time.monotonic() > self.deadline:
            raise TimeUp("the teacher time (--minutes) is spent")
        return self.backend.complete(prompts, **kwargs)


def run_leaf(leaf: Leaf, backend, params: GenerateParams) -> tuple[list[dict], LeafPipeline]:
    """Every candidate of one leaf: kept rows and dropped ones, each with its filter (or 'kept'); when the
    teacher's time runs out (TimeUp) the leaf ends with the rows it has."""
    rows: list[dict] = []

    def dropped(name: str, example: dict) -> None:
        shown = {k: str(v)[:80] for k, v in example.items() if k != "source" and v}
        print(f"  dropped by {name}: {shown}", flush=True)
        if example.get("question"):
            rows.append({"filter": name, **{k: v for k, v in example.items() if v}})

    chunks = knowledge_chunks(leaf, backend, params, DocsSettings()) if leaf.kind == "knowledge" else None
    pipeline = LeafPipeline(leaf, backend, params, chunks, on_drop=dropped)
    kept_rows: list[dict] = []
    try:
        for kept in _kept(pipeline):  # row by row: what was kept before a TimeUp stays
            kept_rows.append(kept)
        answer_dropped_questions(leaf, backend, params, rows)
    except TimeUp as stop:
        print(f"  {leaf.path}: stopped early: {stop}", flush=True)
        pipeline.stats.stopped = str(stop)
    rows += kept_rows
    for r in rows:
        r.update(leaf=leaf.path, kind=leaf.kind, id=row_id(r["question"], r.get("answer", "")))
    return rows, pipeline


def _kept(pipeline: LeafPipeline):
    for row in pipeline.run():
        print(f"  kept: {row['metadata'].get('question', row['messages'][1]['content'])[:100]!r} -> "
              f"{row['messages'][2]['content'][:100]!r}", flush=True)
        user = row["messages"][1]["content"]
        question = row["metadata"].get("question", user)
        source = user[: -len(question)].strip() if question != user else None
        yield {"filter": "kept", "question": question, "answer": row["messages"][2]["content"], "source": source}


def answer_dropped_questions(leaf: Leaf, backend, params: GenerateParams, rows: list[dict]) -> None:
    """Questions a new question filter dropped never got an answer; the old pipeline would have asked for one."""
    pending = [r for r in rows if r["filter"] == "incomplete:question" and "answer" not in r]
    if not pending or leaf.kind == "knowledge":
        return
    import random

    rng = random.Random(0)
    prompts = [P.answer_prompt(leaf, P.pick_seeds(leaf.seeds, params.seeds_per_prompt, rng), r["question"])
               for r in pending]
    replies = backend.complete(prompts, max_new_tokens=params.max_new_tokens, temperature=params.temperature,
                               seed=10_000, schema=P.ANSWER_SCHEMA)
    for r, reply in zip(pending, replies, strict=True):
        got = parse_reply(reply.text, P.ANSWER_SCHEMA).fields if reply.finish_reason != "length" else None
        if got:
            r["answer"] = got["answer"]
            r["answered_for_before"] = True


def before_and_after(rows: list[dict], params: GenerateParams) -> tuple[list[dict], list[dict]]:
    after = [r for r in rows if r["filter"] == "kept"]
    dedupe = NearDuplicates(params.dedupe_threshold, [])
    before = []
    for r in rows:
        if r["filter"] != "kept" and (r["filter"] not in NEW_FILTERS or "answer" not in r):
            continue
        if old_filters_keep(r["question"], r["answer"], params) and dedupe.admit(r["question"]):
            before.append(r)
    return before, after


def filter_counts(rows: list[dict], before: list[dict], pipeline: LeafPipeline) -> dict[str, dict[str, int]]:
    """seen/kept per filter after (from the pipeline), and what the old filters dropped of the same rows."""
    return {name: {"seen": seen, "kept": kept} for name, (seen, kept) in pipeline.stats.filters.counts.items()}


def junk_rate(rows: list[dict], labels: dict[str, dict]) -> tuple[int, int, int]:
    """(labelled, junk, unlabelled) among `rows`."""
    labelled = [labels[r["id"]] for r in rows if r["id"] in labels]
    junk = sum(1 for v in labelled if v.get("label") == "junk")
    return len(labelled), junk, len(rows) - len(labelled)


def load_labels(path: Path) -> dict[str, dict]:
    if not path.is_file():
        return {}
    import yaml

    data = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
    return {str(k): v for k, v in (data.get("rows") or {}).items()}


def fmt_rate(labelled: int, junk: int) -> str:
    return f"{junk}/{labelled} = {junk / labelled:.0%}" if labelled else "n/a"


def report(results: dict[str, dict], labels: dict[str, dict]) -> None:
    print("\njunk among labelled kept rows (reviewer labels in the labels file):")
    print(f"{'leaf':<50} {'before: kept':>12} {'junk':>14} {'after: kept':>12} {'junk':>14}")
    totals = Counter()
    for name, res in results.items():
        b, a = junk_rate(res["before"], labels), junk_rate(res["after"], labels)
        totals.update(bl=b[0], bj=b[1], bn=len(res["before"]), al=a[0], aj=a[1], an=len(res["after"]))
        print(f"{name:<50} {len(res['before']):>12} {fmt_rate(b[0], b[1]):>14} {len(res['after']):>12} "
              f"{fmt_rate(a[0], a[1]):>14}" + (f"  ({b[2]} / {a[2]} unlabelled)" if b[2] or a[2] else ""))
    print(f"{'all':<50} {totals['bn']:>12} {fmt_rate(totals['bl'], totals['bj']):>14} {totals['an']:>12} "
          f"{fmt_rate(totals['al'], totals['aj']):>14}")
    for name, res in results.items():
        print(f"\nfilters of {name} (after; before = parse, word counts, near-duplicates only)")
        print(f"  {'filter':<24} {'seen':>6} {'kept':>6} {'keep':>6}   new?")
        for fname, c in res["filters"].items():
            new = ("stricter" if fname == "length:answer" else "new") \
                if fname in NEW_FILTERS or fname.startswith("truncated") else ""
            rate = f"{c['kept'] / c['seen']:.0%}" if c["seen"] else "-"
            print(f"  {fname:<24} {c['seen']:>6} {c['kept']:>6} {rate:>6}   {new}")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--teacher", default=os.environ.get("ARBORIST_TEACHER", "smollm2-135m-instruct"),
                        help="the teacher (default: the packaged SmolLM2-135M-Instruct Q4_1 GGUF)")
    parser.add_argument("--samples", type=int, default=10, help="kept rows wanted per leaf")
    parser.add_argument("--rows", type=Path, default=DEFAULT_ROWS, help="where every row goes (JSONL)")
    parser.add_argument("--as-leaf", help="record the rows under this name instead of the leaf's path (an A/B run)")
    parser.add_argument("--labels", type=Path, default=DEFAULT_LABELS)
    parser.add_argument("--report-only", action="store_true", help="read --rows instead of generating")
    parser.add_argument("--leaf", choices=("freeform", "knowledge", "chickadee", "storytelling"), action="append",
                        help="only these leaves (default: knowledge and freeform)")
    parser.add_argument("--max-attempts-factor", type=float, default=4.0,
                        help="first-stage requests per wanted row at most (a low keep rate needs more)")
    parser.add_argument("--replay", type=Path, help="teacher replies recorded here are replayed, new ones recorded")
    parser.add_argument("--replay-only", action="store_true",
                        help="with --replay: stop at the first request not recorded instead of asking the teacher")
    parser.add_argument("--key-words", action="store_true",
                        help="name the answer's key words to the teacher and force one into the question (A/B)")
    parser.add_argument("--minutes", type=float, help="teacher time for the whole run: no request after it")
    parser.add_argument("--threads", type=int, default=2,
                        help="llama.cpp threads (1 on a crowded machine: its threads spin-wait for each other)")
    parser.add_argument("--seed", type=int, default=0, help="the run's sampling seed (another seed: new rows)")
    parser.add_argument("--temperature", type=float, help="the teacher's sampling temperature (default: lab generate's)")
    parser.add_argument("--answer-temperature", type=float, help="the answer stage's temperature (an A/B)")
    parser.add_argument("--no-how-to-openings", action="store_true",
                        help="answers to 'How do you X?' are not made to start 'To X,' (an A/B)")
    parser.add_argument("--unlabelled", action="store_true", help="print unlabelled kept rows as YAML to label")
    args = parser.parse_args(argv)
    params = GenerateParams(samples=args.samples, seed=args.seed, docs_fallback_to_seed_contexts=True, max_new_tokens=160,
                            chunk_max_tokens=300,  # a passage or two per prompt: shorter prompts, focused questions
                            knowledge_document_share=1.0,  # every kept knowledge row shows its chunk to the labeller
                            collapse_min_attempts=10_000, max_attempts_factor=args.max_attempts_factor,
                            **({"temperature": args.temperature} if args.temperature is not None else {}),
                            **({"answer_temperature": args.answer_temperature}
                               if args.answer_temperature is not None else {}),
                            how_to_openings=not args.no_how_to_openings)
    freeform = SYNONYMS if SYNONYMS.is_file() else HAIKU
    leaves = {"freeform": freeform, "knowledge": MOON, "chickadee": CHICKADEE, "storytelling": STORYTELLING}
    results: dict[str, dict] = {}
    if args.report_only:
        rows = [json.loads(line) for line in args.rows.read_text(encoding="utf-8").splitlines() if line.strip()]
        counts = json.loads(args.rows.with_suffix(".filters.json").read_text(encoding="utf-8"))
        for name in dict.fromkeys(r["leaf"] for r in rows):
            mine = [r for r in rows if r["leaf"] == name]
            before, after = before_and_after(mine, params)
            results[name] = {"before": before, "after": after, "filters": counts[name]}
        report(results, load_labels(args.labels))
        if args.unlabelled:
            print_unlabelled(results, load_labels(args.labels))
        return 0
    if not args.teacher:
        parser.error("name the teacher GGUF with --teacher or ARBORIST_TEACHER")
    if args.key_words:
        import lab.generate.pipeline as pipeline_module

        pipeline_module.FORCE_KEY_WORDS = True
    backend = open_teacher(args.teacher, args.replay, args.threads, args.replay_only)
    if args.minutes:
        backend = Bounded(backend, time.monotonic() + 60 * args.minutes)
    all_rows: list[dict] = []
    counts: dict[str, dict] = {}
    try:
        for kind in args.leaf or ("knowledge", "freeform"):
            leaf = read_leaf(leaves[kind])
            started = time.perf_counter()
            rows, pipeline = run_leaf(leaf, backend, params)
            s = pipeline.stats
            print(f"{leaf.path}: {s.kept} kept of {s.attempted} attempts, {s.requests} requests, "
                  f"{s.completion_tokens} completion tokens in {time.perf_counter() - started:.0f} s", flush=True)
            before, after = before_and_after(rows, params)
            name = args.as_leaf or leaf.path
            for r in rows:
                r["leaf"] = name
            counts[name] = filter_counts(rows, before, pipeline)
            results[name] = {"before": before, "after": after, "filters": counts[name]}
            all_rows += rows
            save(args.rows, rows, {name: counts[name]})  # each leaf as it ends: a long run keeps its work
    finally:
        close_backend(getattr(backend, "backend", backend))
    print(f"rows: {args.rows} ({len(all_rows)}: kept and dropped)")
    report(results, load_labels(args.labels))
    if args.unlabelled:
        print_unlabelled(results, load_labels(args.labels))
    return 0


def open_teacher(teacher: str, replay: Path | None, threads: int, replay_only: bool = False):
    """The teacher (both cores by default: prompt evaluation dominates), behind a reply recorder when asked."""
    if replay is None:
        return load_backend(teacher, n_threads=threads)

    def load():
        if replay_only:
            raise TimeUp(f"--replay-only: a request (or token count) not recorded in {replay}")
        return load_backend(teacher, n_threads=threads)

    return ReplayBackend(replay, load, teacher_id=teacher, parameters=teacher_parameters(teacher))


def teacher_parameters(teacher: str) -> int | None:
    """The teacher's size without loading it (a GGUF's header), so replayed runs choose as real ones do."""
    from lab.generate.backends.llamacpp import gguf_parameters
    from lab.models.resolve import resolve_teacher

    resolved = resolve_teacher(teacher)
    return gguf_parameters(Path(resolved.location)) if resolved.kind == "gguf" else None


def print_unlabelled(results: dict[str, dict], labels: dict[str, dict]) -> None:
    for name, res in results.items():
        print(f"  # {name}")
        for r in res["after"]:
            if r["id"] not in labels:
                print(f"  {r['id']}: {{label: , why: \"\"}}  # {r['question'][:150]!r} -> {r['answer'][:300]!r}")


def save(path: Path, rows: list[dict], counts: dict[str, dict]) -> None:
    """Write the rows and filter counts; leaves not run this time keep their earlier rows (--leaf)."""
    counts_path = path.with_suffix(".filters.json")
    if path.is_file() and counts_path.is_file():
        earlier = [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines() if line.strip()]
        rows = [r for r in earlier if r["leaf"] not in counts] + rows
        counts = {**json.loads(counts_path.read_text(encoding="utf-8")), **counts}
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text("".join(json.dumps(r, ensure_ascii=False) + "\n" for r in rows), encoding="utf-8")
    counts_path.write_text(json.dumps(counts, indent=1), encoding="utf-8")


if __name__ == "__main__":
    sys.exit(main())
