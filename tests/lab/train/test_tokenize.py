"""Chat-template tokenisation: the loss sees the assistant's tokens and nothing else."""

from __future__ import annotations

import pytest

from lab.train.tokenize import IGNORE, tokenize_messages, tokenize_records


@pytest.fixture(scope="module")
def tokenizer(tiny_llama_dir):
    from transformers import AutoTokenizer

    return AutoTokenizer.from_pretrained(tiny_llama_dir)


def _labelled_text(tokenizer, sample) -> str:
    return tokenizer.decode([t for t, label in zip(sample.input_ids, sample.labels, strict=True) if label != IGNORE])


def test_only_assistant_turns_and_their_end_marker_carry_labels(tokenizer):
    messages = [
        {"role": "system", "content": "Be brief."},
        {"role": "user", "content": "What is the capital of France?"},
        {"role": "assistant", "content": "Paris."},
        {"role": "user", "content": "And of Italy?"},
        {"role": "assistant", "content": "Rome."},
    ]
    sample = tokenize_messages(tokenizer, messages, max_len=512)
    full = tokenizer.apply_chat_template(messages, tokenize=False)
    assert tokenizer.decode(sample.input_ids) == full
    assert _labelled_text(tokenizer, sample) == "Paris.<|end|>\nRome.<|end|>\n"
    labelled = [label for label in sample.labels if label != IGNORE]
    assert labelled == [t for t, label in zip(sample.input_ids, sample.labels, strict=True) if label != IGNORE]


def test_truncation_keeps_the_start_and_drops_samples_without_labels(tokenizer):
    messages = [{"role": "user", "content": "word " * 200}, {"role": "assistant", "content": "short"}]
    sample = tokenize_messages(tokenizer, messages, max_len=16)
    assert len(sample.input_ids) == 16 and sample.n_label_tokens == 0
    kept, dropped = tokenize_records(tokenizer, [{"messages": messages}], max_len=16)
    assert kept == [] and dropped == 1
