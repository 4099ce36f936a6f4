"""A teacher wrapper that records every reply on disk and replays it, so filter work reruns in seconds.

The same prompt, seed, token budget, temperature and schema give the same key; a key found in the
file is answered from it without loading the model, and a new key asks the real teacher (loaded on
first need) and appends its reply. The benchmark's figures come from a run with an empty file (or
none): replayed replies are byte-for-byte what that teacher answered for that exact request.
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

    def __init__(self, path: Path, load: Callable[[], Backend], teacher_id: str, context_length: int = 8192) -> None:
        self.path, self._load, self._real = path, load, None
        self.teacher_id, self.context_length = teacher_id, context_length
        self.replayed = self.asked = 0
        self._known: dict[str, Completion] = {}
        if path.is_file():
            for line in path.read_text(encoding="utf-8").splitlines():
                if line.strip():
                    entry = json.loads(line)
                    self._known[entry["key"]] = Completion(**entry["completion"])

    def _teacher(self) -> Backend:
        if self._real is None:
            self._real = self._load()
            self.context_length = self._real.context_length
        return self._real

    def count_tokens(self, text: str) -> int:
        return self._teacher().count_tokens(text)

    def complete(self, prompts: Sequence[Prompt], *, max_new_tokens: int, temperature: float, seed: int,
                 schema: dict[str, Any] | None = None) -> list[Completion]:
        keys = [request_key(p, max_new_tokens, temperature, seed + i, schema) for i, p in enumerate(prompts)]
        out: list[Completion] = []
        for i, (prompt, key) in enumerate(zip(prompts, keys, strict=True)):
            if key not in self._known:
                got = self._teacher().complete([prompt], max_new_tokens=max_new_tokens, temperature=temperature,
                                               seed=seed + i, schema=schema)[0]
                self._known[key] = got
                self.path.parent.mkdir(parents=True, exist_ok=True)
                with self.path.open("a", encoding="utf-8") as f:
                    f.write(json.dumps({"key": key, "completion": dataclasses.asdict(got)}, ensure_ascii=False) + "\n")
                self.asked += 1
            else:
                self.replayed += 1
            out.append(self._known[key])
        return out

    def close(self) -> None:
        close = getattr(self._real, "close", None)
        if callable(close):
            close()
