"""`lab validate`: check taxonomy files or whole trees; exit 0 when clean, 1 on errors, 2 on usage errors."""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

FORMATS = ("text", "json", "github", "sarif")
TAXONOMY_ROOTS = ("knowledge", "compositional_skills", "foundational_skills")
REPO_CONFIG = Path(".github") / "arborist.yml"  # the same file the bot reads its settings from
PROGRESS_FROM = 200  # files; smaller runs finish before a progress bar would help


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("paths", nargs="*", metavar="PATH",
                        help="qna.yaml files or folders (default: the taxonomy root, or the current folder)")
    parser.add_argument("--taxonomy", metavar="ROOT", type=Path,
                        help="taxonomy root: paths are shown relative to it and its questions are indexed "
                             "to find duplicates across the taxonomy")
    parser.add_argument("--format", choices=FORMATS, default="text", help="output format (default: text)")
    parser.add_argument("--config", metavar="FILE", type=Path,
                        help="a YAML file with a `validation:` section (default: .github/arborist.yml in the "
                             "taxonomy root or the current folder, when present)")
    parser.add_argument("--tokenizer", metavar="PATH", help="tokenizer.json for exact token counts")
    parser.add_argument("--no-hints", action="store_true", help="text format: leave out the fix hints")
    parser.add_argument("-q", "--quiet", action="store_true", help="report errors only, not warnings")


def _config(args: argparse.Namespace):
    from lab.taxonomy.config import ValidationConfig

    section: dict = {}
    if args.config is None:
        default = (args.taxonomy or Path(".")) / REPO_CONFIG
        args.config = default if default.is_file() else None
    if args.config:
        import yaml

        try:
            loaded = yaml.safe_load(args.config.read_text(encoding="utf-8")) or {}
        except (yaml.YAMLError, UnicodeDecodeError) as exc:
            raise ValueError(f"{args.config}: not readable YAML ({exc})") from None
        if not isinstance(loaded, dict):
            raise ValueError(f"{args.config}: expected a mapping")
        section = loaded.get("validation") or {}
    config = ValidationConfig.from_mapping(section)
    if args.tokenizer:
        from dataclasses import replace

        config = replace(config, tokenizer=args.tokenizer)
    return config


def run(args: argparse.Namespace) -> int:
    from lab.taxonomy import render
    from lab.taxonomy.findings import FileReport

    if args.taxonomy is not None and not args.taxonomy.is_dir():
        print(f"lab validate: --taxonomy {args.taxonomy} is not a folder", file=sys.stderr)
        return 2
    try:
        config = _config(args)
        if config.tokenizer:
            from lab.taxonomy.tokens import tokenizer_counter

            tokenizer_counter(config.tokenizer)
    except (OSError, ValueError) as exc:
        print(f"lab validate: {exc}", file=sys.stderr)
        return 2
    root = args.taxonomy
    if root is None and not args.paths and any(Path(name).is_dir() for name in TAXONOMY_ROOTS):
        root = Path(".")  # run inside a taxonomy checkout: validate it all, duplicates across it included
    paths = args.paths or [root or Path(".")]
    reports = _with_progress(paths, root, config)
    if args.quiet:
        reports = [FileReport(r.path, [f for f in r.findings if f.severity == "error"]) for r in reports]
    if args.format == "json":
        print(json.dumps(render.to_json(reports), indent=2, ensure_ascii=False))
    elif args.format == "sarif":
        print(json.dumps(render.to_sarif(reports), indent=2, ensure_ascii=False))
    elif args.format == "github":
        sys.stdout.write(render.to_github(reports))
    else:
        sys.stdout.write(render.to_text(reports, hints=not args.no_hints))
    return 0 if all(r.valid for r in reports) else 1


def _with_progress(paths, root, config):
    from lab.taxonomy.validate import validate_paths

    if not sys.stderr.isatty():
        return validate_paths(paths, root=root, config=config)
    from rich.progress import Progress

    with Progress(transient=True) as progress:
        task = progress.add_task("validating", total=None)
        return validate_paths(paths, root=root, config=config, on_file=lambda _p: progress.advance(task))
