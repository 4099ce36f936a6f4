"""Teacher backend: any OpenAI-compatible chat server (vLLM, llama.cpp server, TGI) over HTTP.

Several requests are in flight at once (a thread pool over one keep-alive client). 429 and 5xx
replies, timeouts, dropped connections and malformed JSON bodies are retried with exponential
backoff (Retry-After honoured, capped); a request that still fails comes back as a Completion with
`error` set, so one bad reply costs one row, not the run. The API key is sent, never logged.
"""

from __future__ import annotations

import math
import os
import time
from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor
from typing import Any
from urllib.parse import urlsplit

from lab.generate.backends.base import DEFAULT_CONTEXT_LENGTH, BackendError, Completion, Prompt, as_messages

RETRY_STATUS = frozenset({408, 409, 429, 500, 502, 503, 504})
MAX_RETRY_AFTER_S = 30.0
CHARS_PER_TOKEN = 3  # over-estimate tokens when no tokenizer is given (English runs about 4 chars/token)
GUIDED_MODES = ("response_format", "guided_json", "none")


class OpenAIBackend:
    OPTIONS = ("model", "api_key", "concurrency", "timeout_s", "max_retries", "backoff_s", "guided",
               "context_length", "tokenizer_file")

    def __init__(self, base_url: str, *, model: str | None = None, api_key: str | None = None, concurrency: int = 8,
                 timeout_s: float = 120.0, max_retries: int = 4, backoff_s: float = 0.5,
                 guided: str = "response_format", context_length: int | None = None,
                 tokenizer_file: str | None = None) -> None:
        import httpx

        if guided not in GUIDED_MODES:
            raise BackendError(f"guided must be one of {', '.join(GUIDED_MODES)}")
        parts = urlsplit(base_url)
        if parts.scheme not in ("http", "https") or not parts.netloc:
            raise BackendError(f"not an http(s) URL: {base_url!r}")
        self.base_url = base_url.rstrip("/") if parts.path.strip("/") else base_url.rstrip("/") + "/v1"
        key = api_key or os.environ.get("ARBORIST_TEACHER_API_KEY") or os.environ.get("OPENAI_API_KEY")
        headers = {"Authorization": f"Bearer {key}"} if key else {}
        self.client = httpx.Client(headers=headers, timeout=timeout_s)
        self.pool = ThreadPoolExecutor(max_workers=max(1, concurrency), thread_name_prefix="teacher")
        self.max_retries, self.backoff_s, self.guided = max_retries, backoff_s, guided
        self._tokenizer = None
        if tokenizer_file:
            from tokenizers import Tokenizer

            self._tokenizer = Tokenizer.from_file(tokenizer_file)
        served = self._models() if model is None or context_length is None else {}
        self.model = model or next(iter(served), "default")
        self.context_length = context_length or int(served.get(self.model) or DEFAULT_CONTEXT_LENGTH)
        self.teacher_id = f"http:{parts.netloc}{parts.path}:{self.model}"

    def _models(self) -> dict[str, int | None]:
        """Model ids the server offers, with the context length where it says (vLLM: max_model_len)."""
        try:
            reply = self.client.get(f"{self.base_url}/models")
            reply.raise_for_status()
            return {m["id"]: m.get("max_model_len") for m in reply.json().get("data", [])}
        except Exception:  # noqa: BLE001 - an optional probe: fall back to explicit settings
            return {}

    def count_tokens(self, text: str) -> int:
        if self._tokenizer is not None:
            return len(self._tokenizer.encode(text, add_special_tokens=False).ids)
        return math.ceil(len(text) / CHARS_PER_TOKEN)

    def _body(self, prompt: Prompt, max_new_tokens: int, temperature: float, seed: int,
              schema: dict[str, Any] | None) -> dict[str, Any]:
        body: dict[str, Any] = {"model": self.model, "messages": as_messages(prompt), "max_tokens": max_new_tokens,
                                "temperature": temperature, "seed": seed}
        if schema is not None and self.guided == "response_format":
            body["response_format"] = {"type": "json_schema",
                                       "json_schema": {"name": schema.get("title", "reply"), "schema": schema}}
        elif schema is not None and self.guided == "guided_json":
            body["guided_json"] = schema
        return body

    def _one(self, body: dict[str, Any]) -> Completion:
        import httpx

        last = "no attempt"
        for attempt in range(self.max_retries + 1):
            wait = self.backoff_s * (2 ** attempt)
            try:
                reply = self.client.post(f"{self.base_url}/chat/completions", json=body)
            except httpx.HTTPError as exc:  # timeouts, refused or dropped connections
                last = f"{type(exc).__name__}"
            else:
                if reply.status_code == 200:
                    try:
                        data = reply.json()
                        choice = data["choices"][0]
                        usage = data.get("usage") or {}
                        return Completion(choice["message"].get("content") or "",
                                          prompt_tokens=int(usage.get("prompt_tokens", 0)),
                                          completion_tokens=int(usage.get("completion_tokens", 0)),
                                          finish_reason=choice.get("finish_reason") or "stop")
                    except (ValueError, KeyError, IndexError, TypeError):
                        last = "malformed response body"
                elif reply.status_code in RETRY_STATUS:
                    last = f"HTTP {reply.status_code}"
                    after = reply.headers.get("retry-after", "")
                    if after.replace(".", "", 1).isdigit():
                        wait = min(float(after), MAX_RETRY_AFTER_S)
                else:
                    return Completion("", finish_reason="error", error=f"HTTP {reply.status_code}: {reply.text[:200]}")
            if attempt < self.max_retries:
                time.sleep(wait)
        return Completion("", finish_reason="error", error=f"gave up after {self.max_retries + 1} attempts: {last}")

    def complete(self, prompts: Sequence[Prompt], *, max_new_tokens: int, temperature: float, seed: int,
                 schema: dict[str, Any] | None = None) -> list[Completion]:
        bodies = [self._body(p, max_new_tokens, temperature, seed + i, schema) for i, p in enumerate(prompts)]
        return list(self.pool.map(self._one, bodies))

    def close(self) -> None:
        self.pool.shutdown(wait=False, cancel_futures=True)
        self.client.close()


