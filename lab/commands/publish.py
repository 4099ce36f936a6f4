"""`lab publish`: publish a trained checkpoint as a release on the Hub or into a directory."""

from __future__ import annotations

import argparse
import json
import logging
import sys
from pathlib import Path


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("model_dir", help="the trained model folder (safetensors, config, tokenizer), or a LoRA adapter")
    where = parser.add_mutually_exclusive_group(required=True)
    where.add_argument("--repo-id", help="Hub model repository, e.g. org/taxonomy-model")
    where.add_argument("--dir", help="publish into this directory (or fsspec URL) instead: air-gapped use")
    parser.add_argument("--info", help="JSON file with the release facts (ReleaseInfo fields, see docs/releases.md)")
    parser.add_argument("--taxonomy-repo", help="taxonomy repository, owner/name (overrides --info)")
    parser.add_argument("--taxonomy-sha", help="taxonomy commit this model was trained from (overrides --info)")
    parser.add_argument("--previous-sha", help="taxonomy commit of the previous release")
    parser.add_argument("--evaluation", help="report.json written by `lab evaluate`")
    parser.add_argument("--base-model", help="base model id for the card's metadata")
    parser.add_argument("--model-name", help="the model's name in file names and the card "
                        "(default: the repo id; with --dir, <taxonomy>-model)")
    parser.add_argument("--force", action="store_true", help="publish even though the evaluation's gate blocked")
    parser.add_argument("--license", help="licence id for the card's metadata (default apache-2.0)")
    parser.add_argument("--tag-format", help="tag format (default v{date}-{shortsha}); fields {date} (YYYYMMDD, or {date:%%Y.%%m.%%d}), {sha}, {shortsha}")
    parser.add_argument("--gguf", help="GGUF types, comma-separated, from f16, f32, Q4_K_M, Q5_K_M, Q8_0 "
                        "(default f16,Q4_K_M,Q5_K_M,Q8_0; '' for none); on the Hub they go to <repo-id>-GGUF")
    parser.add_argument("--endpoint", help="Hub endpoint (private mirror); default $HF_ENDPOINT or huggingface.co")
    parser.add_argument("--private", action="store_true", help="create the repository as private")
    parser.add_argument("--json", action="store_true", help="print the result as JSON")


def _info(args: argparse.Namespace):
    from lab.publish.release import info_from_dict

    data = json.loads(Path(args.info).read_text()) if args.info else {}
    for key, value in (("taxonomy_repo", args.taxonomy_repo), ("taxonomy_sha", args.taxonomy_sha),
                       ("previous_taxonomy_sha", args.previous_sha), ("base_model", args.base_model),
                       ("license", args.license), ("tag_format", args.tag_format), ("model_name", args.model_name)):
        if value:
            data[key] = value
    if args.evaluation:
        data["evaluation"] = json.loads(Path(args.evaluation).read_text())
    if args.gguf is not None:
        data["gguf_types"] = [t.strip() for t in args.gguf.split(",") if t.strip()]
    return info_from_dict(data)


def gate_blocked(evaluation: dict) -> str | None:
    """The reason the report's release gate blocked, or None when it passed or there is no gate."""
    gate = evaluation.get("gate") if isinstance(evaluation, dict) else None
    if not isinstance(gate, dict) or (gate.get("decision") != "block" and gate.get("passed") is not False):
        return None
    return " ".join(str(gate.get("reason") or "no reason given").split())


def run(args: argparse.Namespace) -> int:
    from lab.publish import DirectoryTarget, HubTarget, PublishError, publish_release

    logging.basicConfig(level=logging.INFO, format="%(message)s", stream=sys.stderr)
    logging.getLogger("httpx2").setLevel(logging.WARNING)
    logging.getLogger("httpx").setLevel(logging.WARNING)
    try:
        info = _info(args)
    except (OSError, ValueError, TypeError) as exc:
        print(f"lab publish: {exc}", file=sys.stderr)
        return 2
    blocked = gate_blocked(info.evaluation)
    if blocked is not None and not args.force:
        print(f"lab publish: refused: the evaluation's gate blocked this model ({blocked}); "
              "pass --force to publish it anyway", file=sys.stderr)
        return 1
    if blocked is not None:
        print(f"lab publish: publishing although the evaluation's gate blocked (--force): {blocked}", file=sys.stderr)
    if args.dir:
        target: DirectoryTarget | HubTarget = DirectoryTarget(args.dir)
    else:
        from huggingface_hub import HfApi

        from lab.hub_settings import HubSettings

        hub = HubSettings.from_environ()
        api = HfApi(endpoint=args.endpoint or hub.endpoint, token=hub.token)
        target = HubTarget(args.repo_id, api, private=args.private)
    try:
        result = publish_release(args.model_dir, target, info)
    except (PublishError, OSError, ValueError) as exc:
        print(f"lab publish: {exc}", file=sys.stderr)
        return 1
    if args.json:
        print(json.dumps(result.to_dict(), indent=2))
    elif result.skipped:
        print(f"already released as {result.tag}: {result.url}")
    else:
        signed = f"signed by key {result.signed_by}" if result.signed_by else "unsigned (no ARBORIST_SIGNING_KEY)"
        print(f"released {result.tag}: {result.url} ({signed})")
    return 0
