"""A teacher wrapper that records every reply on disk and replays it, so filter work reruns in seconds.

The same prompt, seed, token budget, temperature and schema give the same key; a key found in the
file is answered from it without loading the model, and a new key asks the real teacher (loaded on
first need) and appends its reply. Token counts and the context length (the knowledge chunker sizes
its chunks with them) are recorded the same way, so a full replay does not load the model at all.
The benchmark's figures come from a run with an empty file (or none): replayed replies are byte-for-byte what that teacher answered for that exact request.
"""

from __future__ import annotations

import dataclasses
import hashlib
import json
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

from lab.generate.backends.base import Backend, Completion, Prompt


def request_key(prompt: Prompt, max_new_tokens: int, temperature: float, seed: int, schema: dict | None) -> str:
    blob = json.dumps([prompt, max_new_tokens, temperature, seed, schema], sort_keys=True, ensure_ascii=False)
    return hashlib.sha256(blob.encode()).hexdigest()


class ReplayBackend:
    """Answers from `path` when it can, from the teacher `load()` returns otherwise (and records it)."""

    def __init__(self, path: Path, load: Callable[[], Backend], teacher_id: str, context_length: int = 8192,
                 parameters: int | None = None) -> None:
        self.path, self._load = path, load
        self.parameters = parameters  # the teacher's size, as the real backend reports it (knowledge_answers: auto)
        self._real: Backend | None = None
        self.teacher_id, self.context_length = teacher_id, context_length
        self.replayed = self.asked = 0
        self._known: dict[str, Completion] = {}
        self._counts: dict[str, int] = {}
        if path.is_file():
            for line in path.read_text(encoding="utf-8").splitlines():
                if line.strip():
                    entry = json.loads(line)
                    if "context_length" in entry:
                        self.context_length = entry["context_length"]
                    elif "count" in entry:
                        self._counts[entry["count"]] = entry["tokens"]
                    else:
                        self._known[entry["key"]] = Completion(**entry["completion"])

    def _teacher(self) -> Backend:
        if self._real is None:
            self._real = self._load()
            if self._real.context_length != self.context_length:
                self.context_length = self._real.context_length
                self._append({"context_length": self.context_length})
        return self._real

    def count_tokens(self, text: str) -> int:
        key = hashlib.sha256(text.encode()).hexdigest()
        if key not in self._counts:
            self._counts[key] = self._teacher().count_tokens(text)
            self._append({"count": key, "tokens": self._counts[key]})
        return self._counts[key]

    def _append(self, entry: dict[str, Any]) -> None:
        self.path.parent.mkdir(parents=True, exist_ok=True)
        with self.path.open("a", encoding="utf-8") as f:
            f.write(json.dumps(entry, ensure_ascii=False) + "\n")

    def complete(self, prompts: Sequence[Prompt], *, max_new_tokens: int, temperature: float, seed: int,
                 schema: dict[str, Any] | None = None) -> list[Completion]:
        keys = [request_key(p, max_new_tokens, temperature, seed + i, schema) for i, p in enumerate(prompts)]
        out: list[Completion] = []
        for i, (prompt, key) in enumerate(zip(prompts, keys, strict=True)):
            if key not in self._known:
                got = self._teacher().complete([prompt], max_new_tokens=max_new_tokens, temperature=temperature,
                                               seed=seed + i, schema=schema)[0]
                self._known[key] = got
                self._append({"key": key, "completion": dataclasses.asdict(got)})
                self.asked += 1
            else:
                self.replayed += 1
            out.append(self._known[key])
        return out

    def close(self) -> None:
        close = getattr(self._real, "close", None)
        if callable(close):
            close()
