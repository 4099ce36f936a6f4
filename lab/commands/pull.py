"""`lab pull`: download a release into the Hugging Face cache and print where it is."""

from __future__ import annotations

import argparse
import sys


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("repo_id", help="Hub model repository (org/name), or a directory written by `lab publish --dir`")
    parser.add_argument("--release", default="latest", help="a release tag, or 'latest' (default)")
    parser.add_argument("--format", choices=("hf", "gguf"), default="hf", help="safetensors folder or GGUF file")
    parser.add_argument("--quant", default="f16",
                        help="GGUF type with --format gguf: f16 (default), Q4_K_M, Q5_K_M, Q8_0; from <repo>-GGUF")
    parser.add_argument("--endpoint", help="Hub endpoint (private mirror); default $HF_ENDPOINT or huggingface.co")
    parser.add_argument("--cache-dir", help="cache folder; default the standard Hugging Face cache")
    parser.add_argument("--verify", action="store_true",
                        help="also require release.json to list every pulled file and its Ed25519 signature "
                             "to match (the key $ARBORIST_RELEASE_PUBLIC_KEY pins, when set)")
    parser.add_argument("--offline", action="store_true", help="use only the cache (also: HF_HUB_OFFLINE=1)")


def run(args: argparse.Namespace) -> int:
    from lab.consume.chat import find_gguf
    from lab.consume.hub import PullError, pull
    from lab.hub_settings import HubSettings

    hub = HubSettings.from_environ()
    try:
        path = pull(args.repo_id, args.release, args.format, endpoint=args.endpoint or hub.endpoint,
                    token=hub.token, cache_dir=args.cache_dir, offline=args.offline or hub.offline,
                    quant=args.quant, verify=args.verify)
    except PullError as exc:
        print(f"lab pull: {exc}", file=sys.stderr)
        return 1
    if args.verify:
        from lab.publish.signing import trusted_public_key, verify_folder

        signer = verify_folder(path, trusted_public_key())
        print(f"lab pull: verified: every file matches release.json, signed by key {signer}", file=sys.stderr)
    print(find_gguf(path, args.quant) if args.format == "gguf" else path)
    return 0
