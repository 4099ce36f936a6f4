"""`lab releases`: list a model repository's releases with date, taxonomy commit and headline score.

A release whose release.json is malformed is still listed, marked, with the reason on stderr and exit 1.
"""

from __future__ import annotations

import argparse
import json
import sys
from dataclasses import asdict


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("repo_id", help="Hub model repository (org/name), or a directory written by `lab publish --dir`")
    parser.add_argument("--endpoint", help="Hub endpoint (private mirror); default $HF_ENDPOINT or huggingface.co")
    parser.add_argument("--cache-dir", help="cache folder; default the standard Hugging Face cache")
    parser.add_argument("--json", action="store_true", help="print JSON instead of a table")


def run(args: argparse.Namespace) -> int:
    from lab.consume.hub import format_headline, list_releases
    from lab.errors import LabError

    try:
        from lab.hub_settings import HubSettings

        hub = HubSettings.from_environ()
        rows = list_releases(args.repo_id, endpoint=args.endpoint or hub.endpoint, token=hub.token,
                             cache_dir=args.cache_dir)
    except (OSError, LabError) as exc:  # the Hub's HTTP errors are OSErrors; transport errors reach lab.cli
        print(f"lab releases: cannot list {args.repo_id}: {' '.join(str(exc).split())}", file=sys.stderr)
        return 1
    for row in rows:
        if row.problem:
            print(f"lab releases: release {row.tag}: {row.problem}", file=sys.stderr)
    status = 1 if any(row.problem for row in rows) else 0
    if args.json:
        print(json.dumps([asdict(r) for r in rows], indent=2))
        return status
    if not rows:
        print(f"{args.repo_id} has no releases yet")
        return 0
    from rich.console import Console
    from rich.table import Table

    table = Table(title=f"Releases of {args.repo_id}")
    for column in ("tag", "date", "taxonomy commit", "headline evaluation"):
        table.add_column(column)
    for row in rows:
        headline = "invalid release.json" if row.problem else format_headline(row.headline)
        table.add_row(row.tag, row.date[:19].replace("T", " "), row.taxonomy_sha[:12], headline)
    Console(width=120).print(table)
    _print_collection(args)
    return status


def _print_collection(args: argparse.Namespace) -> None:
    """The model line's collection (model, GGUF, data repositories), when the repo is on a Hub and has one."""
    from pathlib import Path

    from lab.consume.hub import is_release_folder

    if is_release_folder(Path(args.repo_id)):
        return
    from huggingface_hub import HfApi
    from huggingface_hub.errors import HfHubHTTPError

    from lab.hub_settings import HubSettings
    from lab.publish.collection import find_collection

    hub = HubSettings.from_environ()
    api = HfApi(endpoint=args.endpoint or hub.endpoint, token=hub.token)
    try:
        found = find_collection(api, args.repo_id)
    except (HfHubHTTPError, OSError):
        return
    if found is None:
        return
    print(f"Collection {found.title}: {found.url}")
    for kind, repo, note in found.items:
        print(f"  {kind:<8} {repo}" + (f"  ({note})" if note else ""))
