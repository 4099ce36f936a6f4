"""One masker for every secret the process knows, used alike for stdout, logs, reports and files on disk.

A secret is the value of any environment variable whose name holds TOKEN, SECRET, KEY or PASSWORD
(HF_TOKEN, OPENAI_API_KEY, ARBORIST_TEACHER_API_KEY, GITHUB_TOKEN, ARBORIST_WEBHOOK_SECRET, ...),
plus every value registered by the code that learns one elsewhere (a settings file, a command-line
option, an installation token). Values shorter than MIN_SECRET_CHARS are not masked: they would eat
ordinary words. A secret is also found in its JSON-escaped and URL-quoted spellings, and a multi-line
secret (a PEM key) line by line, so serialising text first does not let it through.
"""

from __future__ import annotations

import json
import logging
import os
import threading
from collections.abc import Iterable, Mapping
from urllib.parse import quote

SECRET_HINTS = ("TOKEN", "SECRET", "KEY", "PASSWORD")  # environment names whose values are secrets
MIN_SECRET_CHARS = 8
MIN_LINE_CHARS = 16  # lines of a multi-line secret masked on their own
MASK = "***"

_registered: set[str] = set()
_lock = threading.Lock()


def secrets_in(env: Mapping[str, str]) -> list[str]:
    """The secret values of an environment (by the names' hints), long enough to mask."""
    return [v for k, v in env.items() if any(h in k.upper() for h in SECRET_HINTS) and len(v) >= MIN_SECRET_CHARS]


def register_secret(*values: str | bytes | None) -> None:
    """Remember secrets that are not in the environment (settings files, options, fresh tokens)."""
    with _lock:
        for value in values:
            text = value.decode("utf-8", "replace") if isinstance(value, bytes) else value
            if text and len(text) >= MIN_SECRET_CHARS:
                _registered.add(text)


def known_secrets(env: Mapping[str, str] | None = None) -> list[str]:
    """Every secret this process knows: the registered ones and those of `env` (default: os.environ)."""
    with _lock:
        found = set(_registered)
    found.update(secrets_in(os.environ if env is None else env))
    return sorted(found, key=len, reverse=True)


def _spellings(secret: str) -> Iterable[str]:
    """The secret as written, JSON-escaped, URL-quoted, and each long line of a multi-line secret."""
    yield secret
    yield json.dumps(secret)[1:-1]
    yield json.dumps(secret, ensure_ascii=False)[1:-1]
    yield quote(secret, safe="")
    if "\n" in secret:
        for line in secret.splitlines():
            line = line.strip()
            if len(line) >= MIN_LINE_CHARS and not line.startswith("-----"):
                yield line


def mask(text: str, secrets: Iterable[str] | None = None) -> str:
    """`text` with every secret replaced by MASK; `secrets` defaults to every secret the process knows."""
    if not text:
        return text
    for secret in known_secrets() if secrets is None else sorted(secrets, key=len, reverse=True):
        if not secret or len(secret) < MIN_SECRET_CHARS:
            continue
        for spelling in _spellings(secret):
            if spelling in text:
                text = text.replace(spelling, MASK)
    return text


def install_log_masking() -> None:
    """Mask every log record of this process as it is made, whatever handler writes it (stdout, a file)."""
    current = logging.getLogRecordFactory()
    if getattr(current, "masks_secrets", False):
        return

    def factory(*args: object, **kwargs: object) -> logging.LogRecord:
        record = current(*args, **kwargs)
        message = record.getMessage()
        masked = mask(message)
        if masked != message:
            record.msg, record.args = masked, None
        return record

    factory.masks_secrets = True  # type: ignore[attr-defined]
    logging.setLogRecordFactory(factory)
