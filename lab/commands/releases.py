"""`lab releases`: list a model repository's releases with date, taxonomy commit and headline score."""

from __future__ import annotations

import argparse
import json
import os
import sys
from dataclasses import asdict


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("repo_id", help="Hub model repository (org/name), or a directory written by `lab publish --dir`")
    parser.add_argument("--endpoint", help="Hub endpoint (private mirror); default $HF_ENDPOINT or huggingface.co")
    parser.add_argument("--cache-dir", help="cache folder; default the standard Hugging Face cache")
    parser.add_argument("--json", action="store_true", help="print JSON instead of a table")


def run(args: argparse.Namespace) -> int:
    from lab.consume.hub import format_headline, list_releases

    try:
        rows = list_releases(args.repo_id, endpoint=args.endpoint or os.environ.get("HF_ENDPOINT"),
                             token=os.environ.get("HF_TOKEN") or None, cache_dir=args.cache_dir)
    except Exception as exc:  # the Hub client raises many kinds; the user needs the message, not a trace
        print(f"lab releases: cannot list {args.repo_id}: {exc}", file=sys.stderr)
        return 1
    if args.json:
        print(json.dumps([asdict(r) for r in rows], indent=2))
        return 0
    if not rows:
        print(f"{args.repo_id} has no releases yet")
        return 0
    from rich.console import Console
    from rich.table import Table

    table = Table(title=f"Releases of {args.repo_id}")
    for column in ("tag", "date", "taxonomy commit", "headline evaluation"):
        table.add_column(column)
    for row in rows:
        table.add_row(row.tag, row.date[:19].replace("T", " "), row.taxonomy_sha[:12], format_headline(row.headline))
    Console(width=120).print(table)
    return 0
