"""Open a GGUF with llama.cpp on plain CPU buffers, the one way that runs on every machine we know.

llama-cpp-python 0.3.36 lets llama.cpp repack weights into "extra" CPU buffer types (AMX, AVX-512 layouts).
On this project's Xeon (AVX-512 + AMX) those repacked buffers crash (SIGSEGV) on the first decode of more
than one token, for Q4_1 (engineer F's finding) and for q8_0, whether llama.cpp's quantiser or our exporter
made the file; f16 and the K-quants are not repacked and ran either way. With `use_extra_bufts = False`
every type runs. Kept apart from lab.generate so that loading a model for chat or a release check imports
nothing else. `import lab` stays free of llama_cpp: it is imported only when a model is opened.
"""

from __future__ import annotations

import threading
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

_LOCK = threading.Lock()  # the patch swaps a module attribute: one loader at a time


@contextmanager
def plain_buffers() -> Iterator[None]:
    """Inside this block, `Llama(...)` loads without llama.cpp's extra (repacked) CPU buffer types."""
    import llama_cpp.llama as llama_module

    original = llama_module.llama_cpp.llama_model_default_params

    def without_extra_buffers() -> Any:
        params = original()
        if hasattr(params, "use_extra_bufts"):
            params.use_extra_bufts = False
        return params

    with _LOCK:
        llama_module.llama_cpp.llama_model_default_params = without_extra_buffers
        try:
            yield
        finally:
            llama_module.llama_cpp.llama_model_default_params = original


def open_llama(path: str, **options: Any) -> Any:
    """`llama_cpp.Llama(path, **options)` on plain CPU buffers."""
    from llama_cpp import Llama

    with plain_buffers():
        return Llama(path, **options)
