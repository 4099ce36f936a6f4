"""`lab validate`: check taxonomy files or whole trees; exit 0 when clean, 1 on errors, 2 on usage errors."""

from __future__ import annotations

import argparse
import json
import os
import sys
from pathlib import Path

FORMATS = ("text", "json", "github", "sarif")
TAXONOMY_ROOTS = ("knowledge", "compositional_skills", "foundational_skills")
REPO_CONFIG = Path(".github") / "arborist.yml"  # the same file the bot reads its settings from
ALLOW_LOCAL_DOCS_ENV = "ARBORIST_ALLOW_LOCAL_DOCS"  # "1": accept local document repositories (never in the bot)
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
    add_allow_local_docs(parser)
    parser.add_argument("--no-hints", action="store_true", help="text format: leave out the fix hints")
    parser.add_argument("-q", "--quiet", action="store_true", help="report errors only, not warnings")


def add_allow_local_docs(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--allow-local-docs", action="store_true",
                        help="accept knowledge documents from local paths and file:// repositories (offline "
                             f"mirrors, trials); also {ALLOW_LOCAL_DOCS_ENV}=1. The bot never accepts them")


def _config(args: argparse.Namespace):
    """The validation settings: the repo's config (a broken one warns and uses the defaults), flags on top."""
    explicit = args.config is not None
    path = args.config if explicit else (args.taxonomy or Path(".")) / REPO_CONFIG
    config = repo_validation_config(path, allow_local_docs(args), "lab validate", strict=explicit)
    if args.tokenizer:
        config = config.with_overrides({"tokenizer": args.tokenizer})
    return config


def repo_validation_config(path: Path, allow_local: bool, prog: str, strict: bool = False):
    """`validation:` of a config file, as `lab validate` and `lab generate` both read it.

    A broken repository config warns on stderr and the defaults apply (the bot's verdict too); with
    `strict` (a file named on the command line) any problem is a ValueError instead.
    """
    if not strict and not path.is_file():  # no config: the defaults, without loading the config models (start-up)
        from lab.taxonomy.config import ValidationConfig

        return ValidationConfig(allow_local_docs=allow_local)
    from lab.taxonomy.repoconfig import read_config_file, validation_config

    data = read_config_file(path)
    if strict and data is None:
        raise ValueError(f"{path}: not a readable file")
    config, problems = validation_config(data, str(path))
    if problems and strict:
        raise ValueError(f"\n{prog}: ".join(problems))
    for problem in problems:
        print(f"{prog}: warning: {problem}", file=sys.stderr)
    return config.with_overrides({"allow_local_docs": True}) if allow_local else config


def allow_local_docs(args: argparse.Namespace) -> bool:
    """--allow-local-docs or ARBORIST_ALLOW_LOCAL_DOCS=1 (or true/yes/on): the one opt-in, shared with `lab generate`."""
    if getattr(args, "allow_local_docs", False):
        return True
    if ALLOW_LOCAL_DOCS_ENV not in os.environ:  # unset: no settings to read (keeps pydantic out of start-up)
        return False
    from lab.settings import CliSettings

    return CliSettings.from_environ().allow_local_docs  # as DocsSettings.allow_local reads it


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
