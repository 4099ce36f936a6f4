"""Self-distillation replay: the base model's own answers to general prompts, mixed into training.

Fine-tuning on a narrow data set pulls a model away from everything else it could do; training at the
same time on what the base model itself answers to general prompts holds those answers in place
(the "self-replay" or self-distillation remedy for forgetting). The prompts ship with Arborist
(replay_prompts.json); the answers are generated greedily by the base model before training, so no
other data or model is needed. Answers cut at the length bound lose their unfinished sentence.
"""

from __future__ import annotations

import hashlib
import json
import os
import random
import re
from pathlib import Path
from typing import Any

PROMPTS_FILE = Path(__file__).with_name("replay_prompts.json")
CACHE_VERSION = "1"  # bump when generate_replay's output for the same inputs changes
WEIGHT_SUFFIXES = (".safetensors", ".bin", ".json")  # what makes a model folder answer what it answers
HASH_CHUNK = 8 << 20
REPLAY_LEAF = "arborist/self-replay"  # metadata.leaf of replayed samples
SENTENCE_END = re.compile(r"[.!?](?=\s|$)")
MIN_ANSWER_CHARS = 2


def load_prompts(path: Path = PROMPTS_FILE) -> list[str]:
    """The shipped general prompts, in file order."""
    data = json.loads(path.read_text(encoding="utf-8"))
    return [p for p in data["prompts"] if isinstance(p, str) and p.strip()]


def pick_prompts(prompts: list[str], count: int, seed: int) -> list[str]:
    """`count` prompts, a seeded sample (all of them when count covers the list)."""
    if count >= len(prompts):
        return list(prompts)
    return random.Random(seed).sample(prompts, count)


def complete_sentences(answer: str) -> str:
    """The answer up to its last finished sentence; an answer with no sentence end is kept whole when it
    ends cleanly (a list, a number), else dropped (returns '')."""
    text = answer.strip()
    if not text or SENTENCE_END.search(text[-1:] + " "):
        return text
    ends = [m.end() for m in SENTENCE_END.finditer(text)]
    return text[: ends[-1]].strip() if ends else ""


def system_prompt_of(records: list[dict[str, Any]]) -> str | None:
    """The system prompt the training data uses (the first record's), so replay is asked the same way."""
    for record in records:
        first = record["messages"][0]
        return first["content"] if first["role"] == "system" else None
    return None


def replay_records(prompts: list[str], answers: list[str], system: str | None, truncated: list[bool]) -> list[dict[str, Any]]:
    """Messages records from (prompt, answer); answers cut at the length bound keep only whole sentences."""
    records = []
    for prompt, answer, cut in zip(prompts, answers, truncated, strict=True):
        text = complete_sentences(answer) if cut else answer.strip()
        if len(text) < MIN_ANSWER_CHARS:
            continue
        messages = [{"role": "system", "content": system}] if system else []
        messages += [{"role": "user", "content": prompt}, {"role": "assistant", "content": text}]
        records.append({"messages": messages, "metadata": {"leaf": REPLAY_LEAF, "kind": "self_replay"}})
    return records


def replay_key(base: str | Path, prompts: list[str], system: str | None, max_new_tokens: int) -> str | None:
    """What a greedy replay depends on: the base folder's weights, config and tokenizer files (by content),
    the prompts, the system prompt and the length bound. None when `base` is not a local folder."""
    folder = Path(base)
    if not folder.is_dir():
        return None
    digest = hashlib.sha256(json.dumps([CACHE_VERSION, prompts, system, max_new_tokens]).encode())
    for path in sorted(p for p in folder.iterdir() if p.is_file() and p.suffix in WEIGHT_SUFFIXES):
        digest.update(path.name.encode() + b"\0")
        with open(path, "rb") as handle:
            while chunk := handle.read(HASH_CHUNK):
                digest.update(chunk)
    return digest.hexdigest()


def read_cached_replay(cache: Path, key: str | None) -> list[dict[str, Any]] | None:
    """The records a run with the same key generated before, or None."""
    path = cache / f"{key}.jsonl" if key else None
    if path is None or not path.is_file():
        return None
    return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines() if line.strip()]


def write_cached_replay(cache: Path, key: str | None, records: list[dict[str, Any]]) -> None:
    """Keep the records under their key (written whole, then renamed: a reader never sees half a file)."""
    if not key:
        return
    cache.mkdir(parents=True, exist_ok=True)
    tmp = cache / f".{key}.{os.getpid()}.tmp"
    tmp.write_text("".join(json.dumps(r, ensure_ascii=False) + "\n" for r in records), encoding="utf-8")
    os.replace(tmp, cache / f"{key}.jsonl")


def generate_replay(model: Any, tokenizer: Any, device: Any, prompts: list[str], system: str | None,
                    max_new_tokens: int) -> list[dict[str, Any]]:
    """Greedy base-model answers to `prompts`, as training records (the model is left in train mode)."""
    import torch

    texts = []
    for prompt in prompts:
        messages = ([{"role": "system", "content": system}] if system else []) + [{"role": "user", "content": prompt}]
        texts.append(tokenizer.apply_chat_template(messages, tokenize=False, add_generation_prompt=True))
    pad = tokenizer.pad_token_id if tokenizer.pad_token_id is not None else tokenizer.eos_token_id
    answers, truncated = [], []
    side = tokenizer.padding_side
    tokenizer.padding_side = "left"
    use_cache = getattr(model.config, "use_cache", False)
    model.config.use_cache = True
    model.eval()
    try:
        for start in range(0, len(texts), 16):
            enc = tokenizer(texts[start:start + 16], return_tensors="pt", padding=True, add_special_tokens=False).to(device)
            with torch.no_grad():
                out = model.generate(**enc, max_new_tokens=max_new_tokens, do_sample=False, pad_token_id=pad,
                                     eos_token_id=tokenizer.eos_token_id)
            for row in out[:, enc["input_ids"].shape[1]:]:
                truncated.append(tokenizer.eos_token_id not in row.tolist())  # greedy stops only at eos or the bound
                answers.append(tokenizer.decode(row, skip_special_tokens=True))
    finally:
        tokenizer.padding_side = side
        model.config.use_cache = use_cache
        model.train()
    return replay_records(prompts, answers, system, truncated)
