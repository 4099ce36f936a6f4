"""Split knowledge documents into chunks that fit the teacher's context window.

The budget is measured with the teacher's own tokenizer: context length minus the prompt around
the chunk (instructions and seed examples) minus the tokens reserved for the answer. Paragraphs are
packed greedily; a paragraph too long on its own is split at sentences, then at words.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator

CountTokens = Callable[[str], int]
SENTENCE_END = re.compile(r"(?<=[.!?])\s+")
MIN_BUDGET = 32  # tokens: below this the teacher's window is too small for knowledge generation


def chunk_budget(context_length: int, prompt_tokens: int, answer_tokens: int, cap: int) -> int:
    """Tokens left for the chunk itself; raises when the window cannot hold a useful chunk."""
    budget = min(cap, context_length - prompt_tokens - answer_tokens)
    if budget < MIN_BUDGET:
        raise ValueError(
            f"the teacher's context ({context_length} tokens) leaves only {budget} tokens for a document "
            f"chunk after the prompt ({prompt_tokens}) and the answer ({answer_tokens}); use a teacher with a "
            "longer context or lower chunk_answer_tokens"
        )
    return budget


def _paragraphs(markdown: str) -> list[str]:
    """Blank-line separated blocks; a heading is glued to the block under it."""
    blocks = [b.strip() for b in re.split(r"\n\s*\n", markdown) if b.strip()]
    merged: list[str] = []
    for block in blocks:
        if merged and merged[-1].startswith("#") and "\n" not in merged[-1]:
            merged[-1] = f"{merged[-1]}\n{block}"
        else:
            merged.append(block)
    return merged


def _split_long(text: str, budget: int, count: CountTokens) -> Iterator[str]:
    """Pieces of one over-long block, each within budget: sentences first, words as a last resort."""
    pieces = SENTENCE_END.split(text)
    if len(pieces) == 1:
        pieces = text.split()
    current = ""
    for piece in pieces:
        candidate = f"{current} {piece}".strip()
        if current and count(candidate) > budget:
            yield current
            current = piece
        else:
            current = candidate
        while count(current) > budget and len(current.split()) > 1:  # a single huge sentence
            words = current.split()
            half = max(1, len(words) // 2)
            head = " ".join(words[:half])
            if count(head) <= budget:
                yield head
                current = " ".join(words[half:])
            else:
                yield from _split_long(head, budget, count)
                current = " ".join(words[half:])
    if current:
        yield current


def chunk_markdown(markdown: str, budget: int, count: CountTokens) -> list[str]:
    """Chunks of at most `budget` tokens (by `count`), in document order, no text lost."""
    chunks: list[str] = []
    current = ""
    for block in _paragraphs(markdown):
        if count(block) > budget:
            if current:
                chunks.append(current)
                current = ""
            chunks.extend(_split_long(block, budget, count))
            continue
        candidate = f"{current}\n\n{block}" if current else block
        if current and count(candidate) > budget:
            chunks.append(current)
            current = block
        else:
            current = candidate
    if current:
        chunks.append(current)
    return chunks
