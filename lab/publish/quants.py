"""A release's GGUF files: f16 exported directly, the quants made from an f32 export, each one run once.

Every file is loaded by llama.cpp and answers one prompt (the evaluation's first question when there is
one) before anything is uploaded: a quant that crashes or does not load stops the release with its name.
A quant llama.cpp cannot really make for this model (its matrices would stay f16) is left out, and the
card says why.
"""

from __future__ import annotations

import logging
import sys
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

log = logging.getLogger("lab.publish")
DEFAULT_CHECK_PROMPT = "Who are you? Answer in one sentence."
F32_SOURCE = ".f32-source.gguf"  # quantiser input, not published unless f32 is asked for
MAX_PROMPT_CHARS = 500


@dataclass(frozen=True)
class GGUFFile:
    """One GGUF of a release, with what was measured when it was made."""

    name: str
    path: Path
    quant: str  # f16, f32, Q4_K_M, Q5_K_M, Q8_0
    size: int
    answer: str  # its greedy answer to the check prompt
    types: str  # the tensor types it holds (fallbacks named)

    def to_record(self) -> dict[str, Any]:
        return {k: v for k, v in asdict(self).items() if k != "path"}


@dataclass(frozen=True)
class GGUFSet:
    files: list[GGUFFile]
    prompt: str
    skipped: dict[str, str]  # quant -> why it was not made


def gguf_name(stem: str, quant: str) -> str:
    return f"{stem}-{quant}.gguf"


def check_prompt(explicit: str, evaluation: dict[str, Any]) -> str:
    """The prompt every GGUF answers: the one given, else the evaluation's first question, else a default."""
    if explicit.strip():
        return explicit.strip()[:MAX_PROMPT_CHARS]
    items = evaluation.get("items") if isinstance(evaluation, dict) else None
    if isinstance(items, list) and items and isinstance(items[0], dict):
        question = items[0].get("question")
        if isinstance(question, str) and question.strip():
            return question.strip()[:MAX_PROMPT_CHARS]
    return DEFAULT_CHECK_PROMPT


def _unique(types: tuple[str, ...]) -> list[str]:
    from lab.models.quantize import canonical

    out: list[str] = []
    for quant in types:
        name = canonical(quant)
        if name not in out:
            out.append(name)
    return out


def stage_ggufs(weights: Path, staging: Path, stem: str, types: tuple[str, ...], prompt: str) -> GGUFSet:
    """Export and quantise `weights` into `staging`, load each result and ask it `prompt`."""
    from lab.models.gguf_export import export_gguf
    from lab.models.quantize import QuantUnsupported, check_answer, describe, quantize

    progress = sys.stderr.isatty()
    made: list[tuple[str, Path, str]] = []
    skipped: dict[str, str] = {}
    wanted = _unique(types)
    quants = [q for q in wanted if q not in ("f16", "f32")]
    source = None
    if quants or "f32" in wanted:
        log.info("exporting GGUF (f32)")
        source = export_gguf(weights, staging / (gguf_name(stem, "f32") if "f32" in wanted else F32_SOURCE),
                             dtype="f32", progress=progress)
    for quant in wanted:
        target = staging / gguf_name(stem, quant)
        if quant == "f32" and source is not None:
            made.append((quant, source, "f32"))
        elif quant == "f16":
            log.info("exporting GGUF (f16)")
            made.append((quant, export_gguf(weights, target, dtype="f16", progress=progress), "f16"))
        else:
            log.info("quantising GGUF (%s)", quant)
            try:
                report = quantize(source, target, quant)  # type: ignore[arg-type]
            except QuantUnsupported as exc:
                log.warning("%s", exc)
                skipped[quant] = str(exc)
                continue
            made.append((quant, target, report.summary()))
    if source is not None and "f32" not in wanted:
        source.unlink(missing_ok=True)
    files = []
    for quant, path, types_text in made:
        answer = check_answer(path, prompt)
        log.info("%s answers %r", path.name, answer[:80])
        if quant in ("f16", "f32"):
            types_text = describe(path, "Q8_0").summary().split(" (")[0]
        files.append(GGUFFile(path.name, path, quant, path.stat().st_size, answer, types_text))
    return GGUFSet(files, prompt, skipped)
