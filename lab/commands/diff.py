"""`lab diff`: the leaves that changed between two revisions (merge-base of the two), as text or JSON."""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("base", metavar="BASE", help="base revision, e.g. origin/main")
    parser.add_argument("head", metavar="HEAD", nargs="?", help="head revision (default: the working tree)")
    parser.add_argument("--taxonomy", metavar="ROOT", type=Path, default=Path("."),
                        help="taxonomy root inside a git repository (default: the current folder)")
    parser.add_argument("--format", choices=("text", "json"), default="text", help="output format")


def run(args: argparse.Namespace) -> int:
    from lab.taxonomy.diff import DiffError, changed_leaves, merge_base

    if not args.taxonomy.is_dir():
        print(f"lab diff: --taxonomy {args.taxonomy} is not a folder", file=sys.stderr)
        return 2
    try:
        start = merge_base(args.taxonomy, args.base, args.head)
        changes = changed_leaves(args.taxonomy, args.base, args.head)
    except DiffError as exc:
        print(f"lab diff: {exc}", file=sys.stderr)
        return 2
    if args.format == "json":
        print(json.dumps({"base": args.base, "head": args.head, "merge_base": start,
                          "changes": [c.to_dict() for c in changes]}, indent=2))
        return 0
    for change in changes:
        shown = f"{change.old_path} -> {change.path}" if change.old_path else change.path
        print(f"{change.status:9}{shown}")
    head = args.head or "working tree"
    print(f"{len(changes)} leaf change(s) from {start[:12]} (merge-base of {args.base} and {head})", file=sys.stderr)
    return 0
