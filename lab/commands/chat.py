"""`lab chat`: try a model in the terminal (llama.cpp for GGUF, transformers otherwise)."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("model", help="a model folder, a .gguf file, a `lab publish --dir` folder, a Hub repo id "
                        "(a release; owner/repo:file.gguf for one GGUF of any repo), or smollm2-135m-instruct")
    parser.add_argument("--format", choices=("gguf", "hf"),
                        help="default: gguf for .gguf files and smollm2-135m-instruct, else hf (hf dequantises a GGUF)")
    parser.add_argument("--release", default="latest", help="release tag when MODEL is a repo id")
    parser.add_argument("--quant", default="f16", help="GGUF type when several are present (default f16)")
    parser.add_argument("--endpoint", help="Hub endpoint when MODEL is a repo id")
    parser.add_argument("--cache-dir", help="cache folder when MODEL is a repo id")
    parser.add_argument("--prompt", help="ask one question, print the answer and exit")
    parser.add_argument("--system", help="system message to open with (default: the one training used; '' for none)")
    parser.add_argument("--max-tokens", type=int, default=256, help="longest answer, in tokens (default 256)")
    parser.add_argument("--temperature", type=float, default=0.0, help="0 = greedy (default)")
    parser.add_argument("--adapter", metavar="PATH", help="a LoRA adapter folder (PEFT, e.g. the one `/preview` keeps) "
                        "loaded over MODEL; implies --format hf")


def _is_gguf(model: str) -> bool:
    from lab.models.package import is_packaged

    return model.endswith(".gguf") or is_packaged(model)


def _resolve(args: argparse.Namespace, fmt: str) -> Path:
    from lab.consume.hub import is_release_folder, pull
    from lab.models.resolve import resolve_teacher
    from lab.models.student import resolve_student

    path = Path(args.model)
    if _is_gguf(args.model) and (fmt == "hf" or not path.exists()):  # a GGUF as a transformers model, or fetched
        if fmt == "hf":
            return Path(resolve_student(args.model, log=lambda line: print(line, file=sys.stderr)))
        return Path(resolve_teacher(args.model).location)
    if path.exists() and not is_release_folder(path):
        return path
    from lab.hub_settings import HubSettings

    hub = HubSettings.from_environ()
    return pull(args.model, args.release, fmt, endpoint=args.endpoint or hub.endpoint, token=hub.token,
                offline=hub.offline, quant=args.quant, cache_dir=args.cache_dir)


def _adapter(args: argparse.Namespace, fmt: str) -> Path | None:
    """The checked adapter folder, or None; ValueError when it is not one, or when asked for with GGUF."""
    from lab.evaluate.adapter import check_adapter

    if not args.adapter:
        return None
    if fmt != "hf":
        raise ValueError("--adapter loads a PEFT adapter over a transformers model: use --format hf")
    return check_adapter(args.adapter)


def run(args: argparse.Namespace) -> int:
    from lab.consume.chat import ModelLoadError, chat_loop, open_backend
    from lab.consume.hub import PullError
    from lab.models.resolve import TeacherNotFound

    fmt = args.format or ("hf" if args.adapter or not _is_gguf(args.model) else "gguf")
    try:
        adapter = _adapter(args, fmt)
        path = _resolve(args, fmt)
        backend = open_backend(path, fmt, args.quant, args.max_tokens, args.temperature, adapter)
    except (PullError, ModelLoadError, TeacherNotFound, OSError, ValueError) as exc:
        print(f"lab chat: {exc}", file=sys.stderr)
        return 1
    if args.prompt is not None:
        chat_loop(backend, [args.prompt], print, args.system)
        return 0
    interactive = sys.stdin.isatty()
    if interactive:
        with_adapter = f" + adapter {adapter}" if adapter else ""
        print(f"Chatting with {path}{with_adapter} ({fmt}). /reset starts over, /exit or Ctrl-D quits.", file=sys.stderr)

    def lines():
        while True:
            try:
                yield input("you> " if interactive else "")
            except EOFError:
                return

    chat_loop(backend, lines(), lambda text: print(text, flush=True), args.system)
    return 0
