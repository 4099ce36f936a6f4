"""The quants people run (Q4_K_M, Q5_K_M, Q8_0), made by the llama.cpp quantiser llama-cpp-python bundles.

Quantising and the check that follows (load the file, answer one prompt) each run in a child process:
llama.cpp reports trouble by crashing, and a crash must fail one quant with a clear line, never the release
job. The check loads with plain CPU buffers (lab.llamacpp): on this project's AVX-512/AMX machines
llama.cpp 0.3.36's repacked weight buffers crash on the first multi-token decode, for q8_0 as for Q4_1.

K-quants work on rows of 256 values. llama.cpp quantises a matrix whose rows are not a multiple of 256 with
a fallback type (q5_0/q5_1/q8_0, or f16 when even 32 does not divide them); `describe` counts them, and a
quant whose matrices mostly stayed f16 is refused (`QuantError`): it would be an f16 file under a quant's name.
"""

from __future__ import annotations

import json
import subprocess
import sys
from collections import Counter
from dataclasses import dataclass
from pathlib import Path
from typing import Any

# The llama_ftype of each quant (llama.h: LLAMA_FTYPE_MOSTLY_*).
QUANT_FTYPES = {"Q4_K_M": 15, "Q5_K_M": 17, "Q8_0": 7}
QUANTS = tuple(QUANT_FTYPES)
UNQUANTISED = ("F16", "F32", "BF16")
QUANTISE_TIMEOUT_S = 1800
CHECK_TIMEOUT_S = 300
CHECK_MAX_TOKENS = 48
CHECK_CONTEXT = 512  # tokens: enough for one question and its answer
MAX_ERROR_CHARS = 300


class QuantError(RuntimeError):
    """A quant cannot be made or does not run; the message names the quant and says why in one line."""


class QuantUnsupported(QuantError):
    """llama.cpp would leave most matrices of this model unquantised: the quant is not worth its name."""


@dataclass(frozen=True)
class QuantReport:
    """What a GGUF file holds: its tensor types, and how many matrices fell back from the quant asked for."""

    quant: str
    matrices: int
    types: dict[str, int]  # tensor type -> number of matrices (2-D tensors) of that type
    fallback: int  # matrices not in the requested family (rows not a multiple of the block size)

    def summary(self) -> str:
        mix = ", ".join(f"{n} {t}" for t, n in sorted(self.types.items(), key=lambda kv: -kv[1]))
        if not self.fallback:
            return mix
        return f"{mix} ({self.fallback} of {self.matrices} matrices used a fallback type)"


def canonical(quant: str) -> str:
    """The spelling releases use: Q4_K_M, Q5_K_M, Q8_0 upper case (q8_0 accepted), f16/f32 lower case."""
    upper = quant.strip().upper()
    if upper in QUANT_FTYPES:
        return upper
    if upper in ("F16", "F32"):
        return upper.lower()
    raise QuantError(f"unknown GGUF type {quant!r}: choose from f16, f32, {', '.join(QUANTS)}")


def _family(quant: str) -> tuple[str, ...]:
    """Tensor types that count as the quant itself (the _M mixes use the next K type for some tensors)."""
    return {"Q4_K_M": ("Q4_K", "Q5_K", "Q6_K"), "Q5_K_M": ("Q5_K", "Q6_K"), "Q8_0": ("Q8_0",)}[quant]


def describe(path: Path, quant: str) -> QuantReport:
    """Count the matrix types of the GGUF at `path` against the family of `quant`."""
    from gguf import GGUFReader

    types = Counter(t.tensor_type.name for t in GGUFReader(str(path)).tensors if len(t.shape) >= 2)
    family = _family(quant)
    fallback = sum(n for t, n in types.items() if t not in family)
    return QuantReport(quant, sum(types.values()), dict(types), fallback)


def _run_child(args: list[str], timeout_s: float, what: str) -> str:
    """Run this module in a child process; its last stdout line is the answer. A crash is a QuantError."""
    try:
        proc = subprocess.run([sys.executable, "-m", "lab.models.quantize", *args], capture_output=True,
                              text=True, timeout=timeout_s, check=False)
    except subprocess.TimeoutExpired:
        raise QuantError(f"{what}: no result within {timeout_s:.0f} s") from None
    if proc.returncode != 0:
        tail = " ".join((proc.stderr or "").split()[-40:])[-MAX_ERROR_CHARS:]
        how = f"crashed (signal {-proc.returncode})" if proc.returncode < 0 else f"failed (exit {proc.returncode})"
        raise QuantError(f"{what}: llama.cpp {how}{': ' + tail if tail else ''}")
    lines = (proc.stdout or "").strip().splitlines()
    return lines[-1] if lines else ""


def quantize(source: Path, out: Path, quant: str, timeout_s: float = QUANTISE_TIMEOUT_S) -> QuantReport:
    """Write `source` (an f32 or f16 GGUF) as `quant` at `out`; refuse a result that quantised nothing."""
    quant = canonical(quant)
    if quant not in QUANT_FTYPES:
        raise QuantError(f"{quant} is not made by the quantiser (export it directly)")
    partial = out.with_name(out.name + ".partial")
    _run_child(["make", str(source), str(partial), quant], timeout_s, f"cannot make {quant}")
    report = describe(partial, quant)
    kept = sum(n for t, n in report.types.items() if t in UNQUANTISED)
    if kept * 2 > report.matrices:
        partial.unlink(missing_ok=True)
        raise QuantUnsupported(f"cannot make {quant} for this model: {kept} of {report.matrices} matrices would stay "
                         "unquantised (their rows are not a multiple of 32 values); publish f16 instead")
    partial.replace(out)
    return report


def check_answer(path: Path, prompt: str, max_tokens: int = CHECK_MAX_TOKENS,
                 timeout_s: float = CHECK_TIMEOUT_S) -> str:
    """Load the GGUF in a child process and answer `prompt` greedily; a crash or a load error is a QuantError."""
    line = _run_child(["answer", str(path), json.dumps(prompt), str(max_tokens)], timeout_s,
                      f"{path.name} does not run")
    try:
        return str(json.loads(line)["answer"])
    except (ValueError, KeyError, TypeError):
        raise QuantError(f"{path.name} does not run: no answer came back") from None


def _child_make(source: str, out: str, quant: str) -> int:
    import ctypes

    import llama_cpp

    params = llama_cpp.llama_model_quantize_default_params()
    params.ftype = QUANT_FTYPES[quant]
    rc = llama_cpp.llama_model_quantize(source.encode(), out.encode(), ctypes.byref(params))
    if rc != 0:
        print(f"llama_model_quantize returned {rc}", file=sys.stderr)
        return 1
    return 0


def _child_answer(path: str, prompt: str, max_tokens: int) -> int:
    from lab.llamacpp import open_llama

    llm = open_llama(path, n_ctx=CHECK_CONTEXT, verbose=False, seed=0)
    out: Any = llm.create_chat_completion(messages=[{"role": "user", "content": prompt}],  # type: ignore[list-item]
                                          max_tokens=max_tokens, temperature=0.0, top_k=1)
    print(json.dumps({"answer": str(out["choices"][0]["message"]["content"] or "").strip()}))
    return 0


def main(argv: list[str]) -> int:
    """Child entry: `make SRC OUT QUANT` or `answer GGUF PROMPT_JSON MAX_TOKENS`."""
    if argv[:1] == ["make"] and len(argv) == 4:
        return _child_make(argv[1], argv[2], argv[3])
    if argv[:1] == ["answer"] and len(argv) == 4:
        return _child_answer(argv[1], json.loads(argv[2]), int(argv[3]))
    print("usage: python -m lab.models.quantize make SRC OUT QUANT | answer GGUF PROMPT_JSON MAX_TOKENS",
          file=sys.stderr)
    return 2


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
