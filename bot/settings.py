"""Settings, read once at start from the environment and an optional KEY=VALUE file.

A missing or malformed setting stops start-up with one line naming it (`SettingsError`). Secrets
(the webhook secret, the private key) never appear in repr or logs.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import urlparse

from schemas.masking import register_secret, secrets_in

DEFAULT_GITHUB_URL = "https://api.github.com"
DEFAULT_MAX_BODY_BYTES = 25 * 1024 * 1024  # GitHub caps webhook payloads at 25 MB
DEFAULT_QUEUE_SIZE = 1000  # deliveries waiting for the worker thread before intake answers 503
DEFAULT_HTTP_TIMEOUT = 10.0  # seconds per GitHub API request
SETTINGS_FILE_VAR = "ARBORIST_SETTINGS_FILE"
NUMBERS = ("max_body_bytes", "queue_size", "http_timeout", "buffered_bytes", "header_timeout_s", "body_timeout_s",
           "keep_alive_s", "max_connections")  # positive numbers, each read from ARBORIST_<NAME>
MAX_KEY_BYTES = 64 * 1024


class SettingsError(ValueError):
    """A setting is missing or malformed; the message is one line that names it."""


@dataclass(frozen=True)
class Settings:
    github_url: str = DEFAULT_GITHUB_URL  # ARBORIST_GITHUB_URL: REST API base (GHES: https://host/api/v3)
    app_id: int = 0  # ARBORIST_APP_ID: the App's numeric id
    private_key: str = field(default="", repr=False)  # contents of ARBORIST_PRIVATE_KEY_FILE (PEM)
    webhook_secret: bytes = field(default=b"", repr=False)  # ARBORIST_WEBHOOK_SECRET
    data_dir: Path = Path("./arborist-data")  # ARBORIST_DATA_DIR: SQLite files (deliveries, jobs)
    max_body_bytes: int = DEFAULT_MAX_BODY_BYTES  # ARBORIST_MAX_BODY_BYTES
    queue_size: int = DEFAULT_QUEUE_SIZE  # ARBORIST_QUEUE_SIZE
    http_timeout: float = DEFAULT_HTTP_TIMEOUT  # ARBORIST_HTTP_TIMEOUT, seconds
    buffered_bytes: int = 64 * 1024 * 1024  # ARBORIST_BUFFERED_BYTES: request bodies held at once (at least 2x max body)
    header_timeout_s: float = 10.0  # ARBORIST_HEADER_TIMEOUT_S: a connection must send its request headers within this
    body_timeout_s: float = 60.0  # ARBORIST_BODY_TIMEOUT_S: then its whole body within this; else it is closed
    keep_alive_s: float = 5.0  # ARBORIST_KEEP_ALIVE_S: an idle connection between requests is closed after this
    max_connections: int = 256  # ARBORIST_MAX_CONNECTIONS: open connections; beyond it the oldest unfinished is dropped

    @property
    def deliveries_db(self) -> Path:
        return self.data_dir / "deliveries.sqlite3"


def _read_file(path: Path) -> dict[str, str]:
    """KEY=VALUE lines; blank lines and # comments ignored; optional quotes stripped."""
    out: dict[str, str] = {}
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as exc:
        raise SettingsError(f"{SETTINGS_FILE_VAR}: cannot read {path}: {exc.strerror}") from None
    for number, raw in enumerate(text.splitlines(), 1):
        line = raw.strip()
        if not line or line.startswith("#"):
            continue
        key, sep, value = line.partition("=")
        if not sep or not key.strip():
            raise SettingsError(f"{SETTINGS_FILE_VAR}: {path}:{number}: expected KEY=VALUE")
        out[key.strip()] = value.strip().strip("'\"")
    return out


def _positive(name: str, raw: str, kind: type) -> float | int:
    try:
        value = kind(raw)
    except ValueError:
        raise SettingsError(f"{name}: expected a positive number, got {raw!r}") from None
    if value <= 0:
        raise SettingsError(f"{name}: expected a positive number, got {raw!r}")
    return value


def load_settings(env: Mapping[str, str] | None = None, *, require_app: bool = True) -> Settings:
    """Read the settings; the environment wins over the file named by ARBORIST_SETTINGS_FILE."""
    env = dict(os.environ if env is None else env)
    merged = _read_file(Path(env[SETTINGS_FILE_VAR])) if env.get(SETTINGS_FILE_VAR) else {}
    merged.update({k: v for k, v in env.items() if k.startswith("ARBORIST_")})

    def get(name: str, required: bool = False) -> str:
        value = merged.get(name, "").strip()
        if required and not value:
            raise SettingsError(f"{name}: required but not set")
        return value

    url = get("ARBORIST_GITHUB_URL") or DEFAULT_GITHUB_URL
    parsed = urlparse(url)
    if parsed.scheme not in ("http", "https") or not parsed.netloc:
        raise SettingsError(f"ARBORIST_GITHUB_URL: expected an http(s) URL, got {url!r}")
    secret = get("ARBORIST_WEBHOOK_SECRET", required=True)
    app_id_raw = get("ARBORIST_APP_ID", required=require_app)
    app_id = int(_positive("ARBORIST_APP_ID", app_id_raw, int)) if app_id_raw else 0
    key_file = get("ARBORIST_PRIVATE_KEY_FILE", required=require_app)
    private_key = _read_key(key_file) if key_file else ""
    data_dir = Path(get("ARBORIST_DATA_DIR") or "./arborist-data").expanduser()
    try:
        data_dir.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise SettingsError(f"ARBORIST_DATA_DIR: cannot create {data_dir}: {exc.strerror}") from None
    numbers = {}
    for name in NUMBERS:
        raw, kind = get(f"ARBORIST_{name.upper()}"), type(getattr(Settings, name))
        if raw:
            numbers[name] = kind(_positive(f"ARBORIST_{name.upper()}", raw, kind))
    register_secret(secret, private_key, *secrets_in(merged))  # the settings file's secrets are masked too
    return Settings(
        github_url=url.rstrip("/"), app_id=app_id, private_key=private_key, webhook_secret=secret.encode(),
        data_dir=data_dir, **numbers)


def _read_key(path_text: str) -> str:
    path = Path(path_text).expanduser()
    try:
        if path.stat().st_size > MAX_KEY_BYTES:
            raise SettingsError(f"ARBORIST_PRIVATE_KEY_FILE: {path} is too large to be a PEM key")
        text = path.read_text(encoding="ascii")
    except (OSError, UnicodeDecodeError) as exc:
        reason = getattr(exc, "strerror", None) or "not a text file"
        raise SettingsError(f"ARBORIST_PRIVATE_KEY_FILE: cannot read {path}: {reason}") from None
    if "-----BEGIN" not in text or "PRIVATE KEY-----" not in text:
        raise SettingsError(f"ARBORIST_PRIVATE_KEY_FILE: {path} is not a PEM private key")
    return text
