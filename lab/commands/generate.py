"""`lab generate`: synthetic training data from taxonomy leaves with a teacher model."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from lab.commands.validate import add_allow_local_docs, allow_local_docs

DEFAULT_OUT = "generated"
PIPE_WIDTH = 160  # columns of the summary table when stdout is not a terminal (logs, CI)


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("leaves", nargs="*", metavar="LEAF", help="qna.yaml files or folders (default: all leaves)")
    parser.add_argument("--taxonomy", metavar="ROOT", help="taxonomy root (default: the current directory)")
    parser.add_argument("--changed", metavar="BASE", help="only leaves changed between BASE and HEAD")
    parser.add_argument("--teacher",
                        help="a .gguf file, a model folder, an OpenAI-compatible URL, or a Hub repo id "
                             "(owner/name[:file.gguf]); several URLs, comma-separated, are replicas of one teacher and the "
                             "leaves fan out over them; default $ARBORIST_TEACHER; 'scripted' is a fake for trials")
    parser.add_argument("--model", help="model name on an OpenAI-compatible server (default: the first it lists); "
                                          "the key comes from ARBORIST_TEACHER_API_KEY or OPENAI_API_KEY")
    parser.add_argument("--samples", type=int, default=20, help="rows wanted per leaf (default 20)")
    parser.add_argument("--seed", type=int, default=0, help="sampling seed (default 0)")
    parser.add_argument("--out", default=DEFAULT_OUT,
                        help=f"output folder (default ./{DEFAULT_OUT}); replaced whole when the run ends, "
                             "a failed run leaves it as it was and writes OUT.failed")
    parser.add_argument("--cache-dir", help="generated-data cache (default $ARBORIST_CACHE_DIR or ~/.cache/arborist/sdg)")
    parser.add_argument("--batch-size", type=int, help="prompts per backend call (default 8)")
    parser.add_argument("--parallel", type=int, default=None,
                        help="prompts in flight: llama.cpp contexts on shared weights, or HTTP requests (default 1 / 8)")
    parser.add_argument("--temperature", type=float)
    parser.add_argument("--max-new-tokens", type=int)
    parser.add_argument("--dedupe-threshold", type=float, help="ROUGE-L F1 counted as a near-duplicate (default 0.7)")
    parser.add_argument("--collapse-keep-rate", type=float, help="stop a leaf below this keep rate (default 0.05)")
    parser.add_argument("--judge", action="store_true", help="let the teacher judge each row (slower, cleaner)")
    parser.add_argument("--docs-fallback-seeds", action="store_true",
                        help="knowledge: use the seed contexts when documents cannot be fetched")
    parser.add_argument("--offline", action="store_true", help="never download the teacher (HF_HUB_OFFLINE)")
    parser.add_argument("--no-validate", action="store_true", help="skip validating the leaves first")
    add_allow_local_docs(parser)
    parser.add_argument("--quiet", action="store_true", help="no progress bars")


def _params(args: argparse.Namespace):
    from lab.generate.config import GenerateParams

    overrides = {"samples": args.samples, "seed": args.seed, "batch_size": args.batch_size,
                 "temperature": args.temperature, "max_new_tokens": args.max_new_tokens,
                 "dedupe_threshold": args.dedupe_threshold, "collapse_keep_rate": args.collapse_keep_rate}
    params = GenerateParams().with_overrides({k: v for k, v in overrides.items() if v is not None})
    flags = {"judge": args.judge, "docs_fallback_to_seed_contexts": args.docs_fallback_seeds}
    return params.with_overrides({k: True for k, v in flags.items() if v})


def _select(args: argparse.Namespace) -> list[Path]:
    from lab.generate.leaves import changed_leaf_files, expand, find_leaf_files

    root = Path(args.taxonomy) if args.taxonomy else None
    if args.leaves:
        return expand(args.leaves)
    if args.changed:
        return changed_leaf_files(root or Path.cwd(), args.changed)
    return find_leaf_files(root or Path.cwd())


def _invalid(files: list[Path], root: Path | None, allow_local: bool) -> str:
    """The findings of leaves validation rejects, as text ('' when all are valid): `lab validate`'s verdict,
    with the taxonomy's .github/arborist.yml severities and the same local-documents opt-in."""
    from lab.commands.validate import REPO_CONFIG, repo_validation_config
    from lab.taxonomy import validate_paths
    from lab.taxonomy.render import to_text

    config = repo_validation_config((root or Path(".")) / REPO_CONFIG, allow_local, "lab generate")
    bad = [r for r in validate_paths(files, root=root, config=config) if not r.valid]
    return to_text(bad) if bad else ""


def _run_options(args: argparse.Namespace) -> dict:
    """generate_leaves' keywords: the cache, the documents' settings (with the opt-in), the safe swap."""
    from lab.generate.documents import DocsSettings

    docs = DocsSettings.from_env().model_copy(update={"allow_local": allow_local_docs(args)})
    return {"cache_dir": args.cache_dir, "docs": docs, "keep_previous_if_failed": True}  # a failed run keeps the last


def _error(message: str) -> None:
    print(f"lab generate: {message}", file=sys.stderr)


def _teacher(args: argparse.Namespace) -> str | None:
    """--teacher, else ARBORIST_TEACHER (lab.settings.CliSettings); None (and the reason on stderr) when neither."""
    from lab.settings import CliSettings

    try:
        args.teacher = args.teacher or CliSettings.from_environ().teacher
    except ValueError as exc:
        _error(str(exc))
        return None
    if not args.teacher:
        _error("name a teacher with --teacher (or set ARBORIST_TEACHER)")
    return args.teacher


def run(args: argparse.Namespace) -> int:
    from rich.console import Console

    from lab.generate.backends import BackendError, close_backend
    from lab.generate.fanout import generate_with, load_teacher
    from lab.generate.leaves import LeafSelectionError, read_leaf
    from lab.generate.progress import RichProgress, summary_table
    from lab.generate.staging import OutputError, failed_path
    from lab.models.resolve import TeacherNotFound

    err = Console(stderr=True)
    if not _teacher(args):
        return 2
    root = Path(args.taxonomy) if args.taxonomy else None
    try:
        params = _params(args)
        files = _select(args)
        problems = "" if args.no_validate else _invalid(files, root, allow_local_docs(args))
        if problems:
            _error("fix these leaves first (or pass --no-validate):\n" + problems)
            return 2
        leaves = [read_leaf(f, root) for f in files]
    except (ValueError, LeafSelectionError) as exc:
        _error(str(exc))
        return 2
    if not leaves:
        _error("no leaves to generate (nothing found or nothing changed)")
        return 0
    try:
        backend = load_teacher(args.teacher, offline=args.offline or None, parallel=args.parallel,
                               concurrency=args.parallel, batch_size=args.batch_size, model=args.model)
    except (BackendError, TeacherNotFound) as exc:
        _error(f"cannot load the teacher: {exc}")
        return 1
    options = _run_options(args)
    try:
        if args.quiet:
            manifest = generate_with(backend, leaves, args.out, params, **options)
        else:
            with RichProgress(err) as progress:
                manifest = generate_with(backend, leaves, args.out, params, progress=progress, **options)
    except OutputError as exc:
        _error(str(exc))
        return 2
    finally:
        close_backend(backend)
    console = Console() if sys.stdout.isatty() else Console(width=PIPE_WIDTH)
    console.print(summary_table(manifest))
    failed = [r for r in manifest.leaves if r.status == "failed"]
    out = Path(args.out).resolve()
    if (failed or manifest.rows == 0) and failed_path(out).is_dir():
        console.print(f"this run failed: its data is in {failed_path(out)}; {out} still holds the previous run")
    else:
        console.print(f"data in {out} (manifest.json, *_train_msgs.jsonl, leaves/)")
    return 1 if failed or manifest.rows == 0 else 0


if __name__ == "__main__":  # pragma: no cover
    from lab.cli import main

    sys.exit(main(["generate", *sys.argv[1:]]))
