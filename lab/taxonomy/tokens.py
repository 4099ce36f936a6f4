"""Counting tokens for the documented length limits: a real tokenizer when configured, else an estimate.

The estimate is the larger of 4/3 tokens per whitespace-separated word and 1 token per 4 characters:
the usual rule of thumb for English BPE vocabularies (about 0.75 words per token), with the
character term keeping text without spaces (Chinese, Japanese, long URLs) from being undercounted.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from functools import cache
from pathlib import Path

TOKENS_PER_WORD = 4 / 3
CHARS_PER_TOKEN = 4

Counter = Callable[[str], int]


def estimate_tokens(text: str) -> int:
    """Documented word-based estimate (see module docstring)."""
    words = len(text.split())
    return max(math.ceil(words * TOKENS_PER_WORD), math.ceil(len(text) / CHARS_PER_TOKEN))


@cache
def tokenizer_counter(path: str) -> Counter:
    """Exact counts from a `tokenizers` tokenizer.json (or a model folder holding one). Loaded once."""
    try:
        from tokenizers import Tokenizer  # imported here: only needed when a tokenizer is configured
    except ImportError:
        raise ValueError("a tokenizer is configured but the `tokenizers` package is not installed "
                         "(pip install tokenizers, or remove the tokenizer setting)") from None

    file = Path(path)
    if file.is_dir():
        file = file / "tokenizer.json"
    if not file.is_file():
        raise ValueError(f"tokenizer not found: {file} (expected a tokenizer.json)")
    try:
        tokenizer = Tokenizer.from_file(str(file))
    except Exception as exc:  # tokenizers raises plain Exception for unreadable files
        raise ValueError(f"cannot load tokenizer {file}: {exc}") from None
    return lambda text: len(tokenizer.encode(text, add_special_tokens=False).ids)


def counter_for(tokenizer: str | None) -> tuple[Counter, str]:
    """The counting function and how to name its unit in messages."""
    if tokenizer:
        return tokenizer_counter(tokenizer), "tokens"
    return estimate_tokens, "tokens (estimated from words)"
