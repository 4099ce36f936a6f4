"""Chat-template tokenisation with labels only on the assistant's tokens.

Each assistant turn's character span is found by rendering the conversation up to that turn with
and without it (the template must render prefixes consistently, as chat templates do); tokens whose
text starts inside a span get their own id as label, all others get IGNORE. The turn's end marker
is part of the span, so the model learns to stop.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

IGNORE = -100  # label value the loss skips


@dataclass(frozen=True)
class Tokenized:
    input_ids: list[int]
    labels: list[int]

    @property
    def n_label_tokens(self) -> int:
        return sum(1 for label in self.labels if label != IGNORE)


def _render(tokenizer: Any, messages: list[dict[str, str]], generation_prompt: bool) -> str:
    return tokenizer.apply_chat_template(messages, tokenize=False, add_generation_prompt=generation_prompt)


def assistant_spans(tokenizer: Any, messages: list[dict[str, str]]) -> tuple[str, list[tuple[int, int]]]:
    """The full rendered text and the [start, end) character span of each assistant turn."""
    text = _render(tokenizer, messages, False)
    spans = []
    for index, message in enumerate(messages):
        if message["role"] != "assistant":
            continue
        prefix = _render(tokenizer, messages[:index], True)
        upto = _render(tokenizer, messages[: index + 1], False)
        if not text.startswith(upto) or not upto.startswith(prefix):
            raise ValueError("the chat template does not render conversation prefixes consistently")
        spans.append((len(prefix), len(upto)))
    return text, spans


def tokenize_messages(tokenizer: Any, messages: list[dict[str, str]], max_len: int) -> Tokenized:
    """Token ids and assistant-only labels, truncated to `max_len` tokens."""
    text, spans = assistant_spans(tokenizer, messages)
    encoded = tokenizer(text, add_special_tokens=False, return_offsets_mapping=True)
    ids = list(encoded["input_ids"])[:max_len]
    offsets = list(encoded["offset_mapping"])[:max_len]
    labels = []
    for token_id, (start, end) in zip(ids, offsets, strict=True):
        inside = any(s <= start < e for s, e in spans) and end > start
        labels.append(token_id if inside else IGNORE)
    return Tokenized(ids, labels)


def tokenize_records(tokenizer: Any, records: list[dict[str, Any]], max_len: int) -> tuple[list[Tokenized], int]:
    """Tokenize records; samples left with no label token (all truncated away) are dropped and counted."""
    kept, dropped = [], 0
    for record in records:
        sample = tokenize_messages(tokenizer, record["messages"], max_len)
        if sample.n_label_tokens == 0:
            dropped += 1
            continue
        kept.append(sample)
    return kept, dropped
