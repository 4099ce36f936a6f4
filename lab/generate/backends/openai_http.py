"""Teacher backend: any OpenAI-compatible chat server (vLLM, llama.cpp server, TGI) over HTTP.

Several requests are in flight at once (a thread pool; one connection per try). 429 and 5xx
replies, timeouts, dropped connections and malformed JSON bodies are retried with exponential
backoff (Retry-After honoured, capped), all within one deadline per request that covers every try
and the whole body read (`http_exchange`: a silent or one-byte-a-second server cannot hold a
thread), and a reply over `max_reply_bytes` is refused. A request that still fails comes back as a
Completion with `error` set and a reason, so one bad reply costs one row, not the run. The API key
is sent, never logged: error text is masked (schemas.masking).
"""

from __future__ import annotations

import json
import math
import time
from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor
from typing import Any
from urllib.parse import urlsplit

from lab.generate.backends.base import DEFAULT_CONTEXT_LENGTH, BackendError, Completion, Prompt, as_messages
from lab.generate.backends.http_exchange import ExchangeError, Reply, exchange
from lab.settings import TeacherKeySettings
from schemas.masking import mask, register_secret

RETRY_STATUS = frozenset({408, 409, 429, 500, 502, 503, 504})
MAX_RETRY_AFTER_S = 30.0
DEFAULT_TIMEOUT_S = 120.0  # one try, the whole reply read included
DEFAULT_DEADLINE_S = 300.0  # one request, every try and the waits between them included
DEFAULT_MAX_REPLY_BYTES = 4 * 1024 * 1024  # a chat completion is a few KB; a bigger reply is refused
ERROR_TEXT_BYTES = 200  # of an error reply's body, quoted in the error (masked)
CHARS_PER_TOKEN = 3  # over-estimate tokens when no tokenizer is given (English runs about 4 chars/token)
GUIDED_MODES = ("response_format", "guided_json", "none")


class OpenAIBackend:
    OPTIONS = ("model", "api_key", "concurrency", "timeout_s", "deadline_s", "max_reply_bytes", "max_retries",
               "backoff_s", "guided", "context_length", "tokenizer_file", "teacher_id")

    def __init__(self, base_url: str, *, model: str | None = None, api_key: str | None = None, concurrency: int = 8,
                 timeout_s: float = DEFAULT_TIMEOUT_S, deadline_s: float = DEFAULT_DEADLINE_S,
                 max_reply_bytes: int = DEFAULT_MAX_REPLY_BYTES, max_retries: int = 4, backoff_s: float = 0.5,
                 guided: str = "response_format", context_length: int | None = None,
                 tokenizer_file: str | None = None, teacher_id: str | None = None) -> None:
        if guided not in GUIDED_MODES:
            raise BackendError(f"guided must be one of {', '.join(GUIDED_MODES)}")
        if not (timeout_s > 0 and deadline_s > 0 and max_reply_bytes > 0):
            raise BackendError("timeout_s, deadline_s and max_reply_bytes must be positive")
        parts = urlsplit(base_url)
        if parts.scheme not in ("http", "https") or not parts.netloc:
            raise BackendError(f"not an http(s) URL: {base_url!r}")
        self.base_url = base_url.rstrip("/") if parts.path.strip("/") else base_url.rstrip("/") + "/v1"
        key = api_key or TeacherKeySettings.from_environ().key()  # ARBORIST_TEACHER_API_KEY or OPENAI_API_KEY
        register_secret(key)  # a server that echoes the key in an error never gets it written anywhere
        self.headers = {"Content-Type": "application/json", **({"Authorization": f"Bearer {key}"} if key else {})}
        self.pool = ThreadPoolExecutor(max_workers=max(1, concurrency), thread_name_prefix="teacher")
        self.timeout_s, self.deadline_s, self.max_reply_bytes = timeout_s, deadline_s, max_reply_bytes
        self.max_retries, self.backoff_s, self.guided = max_retries, backoff_s, guided
        self._tokenizer = None
        if tokenizer_file:
            from tokenizers import Tokenizer

            self._tokenizer = Tokenizer.from_file(tokenizer_file)
        served = self._models() if model is None or context_length is None else {}
        self.model = model or next(iter(served), "default")
        self.context_length = context_length or int(served.get(self.model) or DEFAULT_CONTEXT_LENGTH)
        # replicas of one teacher share an id (lab.generate.fanout), so they share cache keys and rows
        self.teacher_id = teacher_id or f"http:{parts.netloc}{parts.path}:{self.model}"

    def _send(self, method: str, path: str, body: bytes | None, until: float) -> Reply:
        return exchange(f"{self.base_url}{path}", method, body, self.headers, until=until,
                        max_bytes=self.max_reply_bytes)

    def _models(self) -> dict[str, int | None]:
        """Model ids the server offers, with the context length where it says (vLLM: max_model_len)."""
        try:
            reply = self._send("GET", "/models", None, time.monotonic() + min(self.timeout_s, self.deadline_s))
            if reply.status != 200:
                return {}
            return {m["id"]: m.get("max_model_len") for m in json.loads(reply.body).get("data", [])}
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

    def _judge(self, reply: Reply, attempt: int) -> tuple[Completion | None, str, float]:
        """A finished Completion (success, or an error not worth retrying), else why and how long to wait."""
        wait = self.backoff_s * (2 ** attempt)
        if reply.status == 200:
            try:
                data = json.loads(reply.body)
                choice = data["choices"][0]
                usage = data.get("usage") or {}
                return Completion(choice["message"].get("content") or "",
                                  prompt_tokens=int(usage.get("prompt_tokens", 0)),
                                  completion_tokens=int(usage.get("completion_tokens", 0)),
                                  finish_reason=choice.get("finish_reason") or "stop"), "", 0.0
            except (ValueError, KeyError, IndexError, TypeError, AttributeError):
                return None, "malformed response body", wait
        if reply.status in RETRY_STATUS:
            after = reply.headers.get("retry-after", "")
            if after.replace(".", "", 1).isdigit():
                wait = min(float(after), MAX_RETRY_AFTER_S)
            return None, f"HTTP {reply.status}", wait
        text = reply.body[:ERROR_TEXT_BYTES].decode("utf-8", "replace")
        return self._failed(f"HTTP {reply.status}: {text}"), "", 0.0

    @staticmethod
    def _failed(reason: str) -> Completion:
        return Completion("", finish_reason="error", error=mask(reason))

    def _one(self, body: dict[str, Any]) -> Completion:
        """One request under one deadline for every try, the whole reply read included."""
        payload = json.dumps(body).encode()
        deadline = time.monotonic() + self.deadline_s
        last, attempts, out_of_time = "no attempt", 0, False
        for attempt in range(self.max_retries + 1):
            until = min(deadline, time.monotonic() + self.timeout_s)
            if time.monotonic() >= deadline:
                out_of_time = True
                break
            attempts += 1
            try:
                reply = self._send("POST", "/chat/completions", payload, until)
            except ExchangeError as exc:
                if not exc.retry:
                    return self._failed(f"the teacher's reply was refused: {exc}")
                last, wait = str(exc), self.backoff_s * (2 ** attempt)
                out_of_time = exc.timed_out and until >= deadline
            else:
                done, last, wait = self._judge(reply, attempt)
                if done is not None:
                    return done
            if attempt < self.max_retries and not out_of_time:
                if time.monotonic() + wait >= deadline:
                    out_of_time = True
                    break
                time.sleep(wait)
        if not out_of_time:
            return self._failed(f"gave up after {attempts} attempts: {last}")
        return self._failed(f"no complete reply within the {self.deadline_s:g} s deadline "
                            f"({attempts} attempt{'s' if attempts != 1 else ''}; last: {last})")

    def complete(self, prompts: Sequence[Prompt], *, max_new_tokens: int, temperature: float, seed: int,
                 schema: dict[str, Any] | None = None) -> list[Completion]:
        bodies = [self._body(p, max_new_tokens, temperature, seed + i, schema) for i, p in enumerate(prompts)]
        return list(self.pool.map(self._one, bodies))

    def close(self) -> None:
        self.pool.shutdown(wait=False, cancel_futures=True)


