"""Webhook intake: the signature is checked over the raw body before anything is parsed.

`accept()` is the whole decision, on plain data, in this order: size (413), signature (401: and
nothing else happens), content type (415), headers (400), JSON (400), ping (200), dedupe (200,
"duplicate"), routing (202 "ignored" when no handler wants it), then 202 "queued". A hostile body
can cost at most one HMAC over `max_body_bytes`: never a 500.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

SIGNATURE_PREFIX = "sha256="
EVENT_RE = re.compile(r"^[a-z_]{1,64}$")
DELIVERY_RE = re.compile(r"^[A-Za-z0-9._:-]{1,128}$")
NO_REPOSITORY_EVENTS = {"installation", "installation_repositories", "github_app_authorization", "ping"}


def sign(secret: bytes, body: bytes) -> str:
    """The X-Hub-Signature-256 value GitHub sends for this body (tests and the demo sign with it)."""
    return SIGNATURE_PREFIX + hmac.new(secret, body, hashlib.sha256).hexdigest()


def verify_signature(secret: bytes, body: bytes, header: str | None) -> bool:
    """Constant-time comparison of X-Hub-Signature-256 with our own HMAC of the raw body."""
    if not secret or not header or not header.startswith(SIGNATURE_PREFIX) or len(header) > 200:
        return False
    return hmac.compare_digest(sign(secret, body).encode(), header.encode("ascii", "replace"))


@dataclass(frozen=True)
class Decision:
    status: int
    body: dict[str, Any]
    enqueue: tuple[str, str, bytes] | None = None  # (event, delivery id, raw body) for the worker
    payload: dict[str, Any] | None = None  # the parsed body, handed on so the worker need not parse it again
    event: str = "-"
    outcome: str = "rejected"
    headers: dict[str, str] = field(default_factory=dict)


def _reject(status: int, message: str, outcome: str, event: str = "-") -> Decision:
    return Decision(status, {"error": message}, event=event, outcome=outcome)


def _missing_fields(event: str, payload: Mapping[str, Any]) -> list[str]:
    missing = []
    installation = payload.get("installation")
    if not (isinstance(installation, Mapping) and isinstance(installation.get("id"), int)):
        missing.append("installation.id")
    if event not in NO_REPOSITORY_EVENTS:
        repository = payload.get("repository")
        if not (isinstance(repository, Mapping) and isinstance(repository.get("full_name"), str)):
            missing.append("repository.full_name")
    return missing


def accept(headers: Mapping[str, str], body: bytes, *, secret: bytes, max_body_bytes: int,
           record: Callable[[str, str, bytes | None, str], bool], wanted: Callable[[str, str | None], bool]) -> Decision:
    """Decide what to answer for one POST /webhook. `headers` keys are lower-case.

    `record(delivery_id, event, body, status) -> bool` stores the delivery durably (False: seen before);
    `wanted(event, action)` says whether any handler is routed for it.
    """
    if len(body) > max_body_bytes:
        return _reject(413, f"body larger than {max_body_bytes} bytes", "too_large")
    if not verify_signature(secret, body, headers.get("x-hub-signature-256")):
        return _reject(401, "missing or invalid X-Hub-Signature-256", "bad_signature")
    content_type = headers.get("content-type", "").split(";")[0].strip().lower()
    if content_type != "application/json":
        return _reject(415, "content type must be application/json (set it in the App's webhook settings)",
                       "bad_content_type")
    event = headers.get("x-github-event", "")
    delivery = headers.get("x-github-delivery", "")
    if not EVENT_RE.match(event) or not DELIVERY_RE.match(delivery):
        return _reject(400, "missing or malformed X-GitHub-Event / X-GitHub-Delivery header", "bad_headers")
    try:
        payload = json.loads(body)
    except (ValueError, RecursionError):
        return _reject(400, "body is not valid JSON", "bad_json", event)
    if not isinstance(payload, dict):
        return _reject(400, "body must be a JSON object", "bad_json", event)
    if event == "ping":
        record(delivery, event, None, "done")
        return Decision(200, {"msg": "pong", "zen": payload.get("zen", "")}, event=event, outcome="pong")
    action = payload.get("action") if isinstance(payload.get("action"), str) else None
    if not wanted(event, action):
        record(delivery, event, None, "ignored")
        return Decision(202, {"status": "ignored", "event": event, "action": action}, event=event, outcome="ignored")
    missing = _missing_fields(event, payload)
    if missing:
        return _reject(400, f"payload lacks {', '.join(missing)}", "missing_fields", event)
    if not record(delivery, event, body, "queued"):
        return Decision(200, {"status": "duplicate", "delivery": delivery}, event=event, outcome="duplicate")
    return Decision(202, {"status": "queued", "delivery": delivery}, enqueue=(event, delivery, body),
                    payload=payload, event=event, outcome="queued")
