"""Running a model for evaluation: greedy, bounded, batched answers; held-out perplexity per leaf."""

from __future__ import annotations

import math
from collections import defaultdict
from collections.abc import Callable, Sequence
from typing import Any

DEFAULT_MAX_NEW_TOKENS = 128  # answer length bound (tokens)
DEFAULT_BATCH_SIZE = 8  # prompts per generate() call
MAX_PROMPT_TOKENS = 2048  # longer prompts keep their last tokens
MIN_ANSWER_TOKENS = 32  # the shortest budget a reference-scaled answer gets
REFERENCE_FACTOR = 3  # an answer may be this many times its reference's length before it is cut


def load(model_ref: str) -> tuple[Any, Any, Any]:
    """(model, tokenizer, device) in eval mode; bf16 on GPU, fp32 on CPU."""
    import torch
    from transformers import AutoModelForCausalLM, AutoTokenizer

    from lab.models.student import resolve_student

    model_ref = resolve_student(model_ref)  # a GGUF, the packaged model, a Hub GGUF repo: a plain HF folder
    device = torch.device("cuda" if torch.cuda.is_available() else "cpu")
    dtype = torch.bfloat16 if device.type == "cuda" else torch.float32
    tokenizer = AutoTokenizer.from_pretrained(model_ref)
    if not getattr(tokenizer, "chat_template", None):
        raise ValueError(f"{model_ref}: the tokenizer has no chat template")
    if tokenizer.pad_token_id is None:
        tokenizer.pad_token = tokenizer.eos_token
    model: Any = AutoModelForCausalLM.from_pretrained(model_ref, dtype=dtype)
    model = model.to(device).eval()
    return model, tokenizer, device


def answer_budget(tokenizer: Any, references: Sequence[str], cap: int = DEFAULT_MAX_NEW_TOKENS) -> int:
    """Tokens enough for an answer up to REFERENCE_FACTOR times the longest reference, within [MIN, cap].

    Scores compare an answer with a short human reference (ROUGE-L, a judge): past a few times its
    length a greedy small model only rambles, and every extra token costs a full decoding step.
    """
    longest = max((len(tokenizer(r, add_special_tokens=False)["input_ids"]) for r in references), default=0)
    return max(min(MIN_ANSWER_TOKENS, cap), min(cap, REFERENCE_FACTOR * longest))


def generate_answers(model: Any, tokenizer: Any, device: Any, prompts: Sequence[Sequence[dict[str, str]]],
                     max_new_tokens: int = DEFAULT_MAX_NEW_TOKENS, batch_size: int = DEFAULT_BATCH_SIZE,
                     advance: Callable[[int], None] | None = None) -> list[str]:
    """Greedy answers to chat prompts, left-padded batches, at most `max_new_tokens` each."""
    import torch

    texts = [tokenizer.apply_chat_template(list(p), tokenize=False, add_generation_prompt=True) for p in prompts]
    answers: list[str] = []
    tokenizer.padding_side = "left"
    tokenizer.truncation_side = "left"
    for start in range(0, len(texts), batch_size):
        chunk = texts[start : start + batch_size]
        enc = tokenizer(chunk, return_tensors="pt", padding=True, truncation=True, max_length=MAX_PROMPT_TOKENS,
                        add_special_tokens=False).to(device)
        with torch.no_grad():
            out = model.generate(**enc, max_new_tokens=max_new_tokens, do_sample=False,
                                 pad_token_id=tokenizer.pad_token_id, eos_token_id=tokenizer.eos_token_id)
        new = out[:, enc["input_ids"].shape[1]:]
        answers.extend(tokenizer.decode(row, skip_special_tokens=True).strip() for row in new)
        if advance:
            advance(len(chunk))
    return answers


def perplexity_by_leaf(model: Any, tokenizer: Any, device: Any, records: Sequence[dict[str, Any]],
                       max_len: int = MAX_PROMPT_TOKENS) -> dict[str, float]:
    """exp(mean NLL of assistant tokens) of held-out messages, grouped by `metadata.leaf` ("" if absent)."""
    import torch
    import torch.nn.functional as F

    from lab.train.tokenize import IGNORE, tokenize_messages

    nll: dict[str, float] = defaultdict(float)
    count: dict[str, int] = defaultdict(int)
    for record in records:
        leaf = str((record.get("metadata") or {}).get("leaf", ""))
        sample = tokenize_messages(tokenizer, record["messages"], max_len)
        if sample.n_label_tokens == 0:
            continue
        ids = torch.tensor([sample.input_ids], device=device)
        targets = torch.tensor(sample.labels[1:] + [IGNORE], device=device)
        with torch.no_grad():
            logits = model(input_ids=ids).logits[0].float()
        nll[leaf] += float(F.cross_entropy(logits, targets, ignore_index=IGNORE, reduction="sum"))
        count[leaf] += sample.n_label_tokens
    return {leaf: math.exp(nll[leaf] / count[leaf]) for leaf in nll}
