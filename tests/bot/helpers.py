"""Shared helpers for the bot's tests: signed deliveries, a server bound to a fake or the stand-in."""

from __future__ import annotations

import itertools
import json
from pathlib import Path

from bot.settings import AppSettings
from bot.webhook import sign

SECRET = b"test-webhook-secret"
_ids = itertools.count(1)


def settings_for(tmp_path: Path, **overrides) -> AppSettings:
    return AppSettings(webhook_secret=SECRET, data_dir=tmp_path, app_id=7, **overrides)


def delivery_headers(event: str, body: bytes, delivery: str | None = None, secret: bytes = SECRET) -> dict[str, str]:
    return {"X-GitHub-Event": event, "X-GitHub-Delivery": delivery or f"delivery-{next(_ids)}",
            "X-Hub-Signature-256": sign(secret, body), "Content-Type": "application/json"}


def body_of(payload: dict) -> bytes:
    return json.dumps(payload).encode()
