"""The GitHub App's settings (`AppSettings`), read once at start from the environment and an optional KEY=VALUE file.

Validated like every Arborist setting (schemas.env_settings): a missing or malformed one stops
start-up with one line naming it (`SettingsError`). Secrets (the webhook secret, the private key)
never appear in repr, errors or logs. The job system's settings are bot.jobs.settings.JobSettings.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from pathlib import Path
from typing import Annotated, Any, ClassVar
from urllib.parse import urlparse

from pydantic import Field, field_validator

from schemas.config_model import ConfigError
from schemas.env_settings import EnvSettings
from schemas.masking import register_secret, secrets_in

DEFAULT_GITHUB_URL = "https://api.github.com"
DEFAULT_MAX_BODY_BYTES = 25 * 1024 * 1024  # GitHub caps webhook payloads at 25 MB
DEFAULT_QUEUE_SIZE = 1000  # deliveries waiting for the worker thread before intake answers 503
DEFAULT_HTTP_TIMEOUT = 10.0  # seconds per GitHub API request
SETTINGS_FILE_VAR = "ARBORIST_SETTINGS_FILE"
NUMBERS = ("max_body_bytes", "queue_size", "http_timeout", "buffered_bytes", "header_timeout_s", "body_timeout_s",
           "keep_alive_s", "max_connections")  # positive numbers, each read from ARBORIST_<NAME>
MAX_KEY_BYTES = 64 * 1024
MAX_SETTINGS_FILE_BYTES = 64 * 1024
PositiveInt = Annotated[int, Field(gt=0)]
PositiveFloat = Annotated[float, Field(gt=0)]


class SettingsError(ConfigError):
    """A setting is missing or malformed; the message is one line that names it."""


class AppSettings(EnvSettings):
    """The webhook server's and its GitHub client's settings."""

    error_type: ClassVar[type[ConfigError]] = SettingsError
    not_from_env: ClassVar[frozenset[str]] = frozenset({"private_key"})  # read from ARBORIST_PRIVATE_KEY_FILE

    github_url: str = DEFAULT_GITHUB_URL  # ARBORIST_GITHUB_URL: REST API base (GHES: https://host/api/v3)
    app_id: Annotated[int, Field(ge=0)] = 0  # ARBORIST_APP_ID: the App's numeric id
    private_key: Annotated[str, Field(repr=False)] = ""  # contents of ARBORIST_PRIVATE_KEY_FILE (PEM)
    webhook_secret: Annotated[bytes, Field(min_length=1, repr=False)]  # ARBORIST_WEBHOOK_SECRET
    data_dir: Path = Path("./arborist-data")  # ARBORIST_DATA_DIR: SQLite files (deliveries, jobs)
    max_body_bytes: PositiveInt = DEFAULT_MAX_BODY_BYTES  # ARBORIST_MAX_BODY_BYTES
    queue_size: PositiveInt = DEFAULT_QUEUE_SIZE  # ARBORIST_QUEUE_SIZE
    http_timeout: PositiveFloat = DEFAULT_HTTP_TIMEOUT  # ARBORIST_HTTP_TIMEOUT, seconds
    buffered_bytes: PositiveInt = 64 * 1024 * 1024  # ARBORIST_BUFFERED_BYTES: request bodies held at once (>= 2x max body)
    header_timeout_s: PositiveFloat = 10.0  # ARBORIST_HEADER_TIMEOUT_S: a connection must send its request headers within this
    body_timeout_s: PositiveFloat = 60.0  # ARBORIST_BODY_TIMEOUT_S: then its whole body within this; else it is closed
    keep_alive_s: PositiveFloat = 5.0  # ARBORIST_KEEP_ALIVE_S: an idle connection between requests is closed after this
    max_connections: PositiveInt = 256  # ARBORIST_MAX_CONNECTIONS: open connections; beyond it the oldest unfinished is dropped
    status_repos: str = ""  # ARBORIST_STATUS_REPOS: repos /status may name (comma list of owner/name, or *); empty: none

    @field_validator("github_url")
    @classmethod
    def _http_url(cls, url: str) -> str:
        parsed = urlparse(url)
        if parsed.scheme not in ("http", "https") or not parsed.netloc:
            raise ValueError(f"expected an http(s) URL, got {url[:60]!r}")
        return url.rstrip("/")

    @field_validator("data_dir")
    @classmethod
    def _home(cls, path: Path) -> Path:
        return path.expanduser()

    @property
    def deliveries_db(self) -> Path:
        return self.data_dir / "deliveries.sqlite3"


def load_settings(env: Mapping[str, str] | None = None, *, require_app: bool = True) -> AppSettings:
    """Read the settings; the environment wins over the file named by ARBORIST_SETTINGS_FILE."""
    env = dict(os.environ if env is None else env)
    merged = _read_file(Path(env[SETTINGS_FILE_VAR])) if env.get(SETTINGS_FILE_VAR) else {}
    merged.update({k: v for k, v in env.items() if k.startswith("ARBORIST_")})
    if not merged.get("ARBORIST_WEBHOOK_SECRET", "").strip():
        raise SettingsError("ARBORIST_WEBHOOK_SECRET: required but not set")
    for name in ("ARBORIST_APP_ID", "ARBORIST_PRIVATE_KEY_FILE") if require_app else ():
        if not merged.get(name, "").strip():
            raise SettingsError(f"{name}: required but not set")
    extra: dict[str, Any] = {}
    if key_file := merged.get("ARBORIST_PRIVATE_KEY_FILE", "").strip():
        extra["private_key"] = _read_key(key_file)
    register_secret(merged["ARBORIST_WEBHOOK_SECRET"], extra.get("private_key"), *secrets_in(merged))
    settings = AppSettings.from_environ({k: v.strip() for k, v in merged.items()}, **extra)
    if require_app and settings.app_id <= 0:
        raise SettingsError(f"ARBORIST_APP_ID: expected a positive number, got {settings.app_id}")
    try:
        settings.data_dir.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise SettingsError(f"ARBORIST_DATA_DIR: cannot create {settings.data_dir}: {exc.strerror}") from None
    return settings


def _read_bounded(path: Path, limit: int, variable: str, what: str, encoding: str) -> str:
    """The text of the file `variable` names, or one SettingsError line: too large, unreadable or not text."""
    try:
        if path.stat().st_size > limit:
            raise SettingsError(f"{variable}: {path} is too large to be {what}")
        return path.read_text(encoding=encoding)
    except (OSError, UnicodeDecodeError) as exc:
        reason = getattr(exc, "strerror", None) or "not a text file"
        raise SettingsError(f"{variable}: cannot read {path}: {reason}") from None


def _read_file(path: Path) -> dict[str, str]:
    """KEY=VALUE lines; blank lines and # comments ignored; optional quotes stripped."""
    out: dict[str, str] = {}
    text = _read_bounded(path, MAX_SETTINGS_FILE_BYTES, SETTINGS_FILE_VAR, "a settings file", "utf-8")
    for number, raw in enumerate(text.splitlines(), 1):
        line = raw.strip()
        if not line or line.startswith("#"):
            continue
        key, sep, value = line.partition("=")
        if not sep or not key.strip():
            raise SettingsError(f"{SETTINGS_FILE_VAR}: {path}:{number}: expected KEY=VALUE")
        out[key.strip()] = value.strip().strip("'\"")
    return out


def _read_key(path_text: str) -> str:
    path = Path(path_text).expanduser()
    text = _read_bounded(path, MAX_KEY_BYTES, "ARBORIST_PRIVATE_KEY_FILE", "a PEM key", "ascii")
    if "-----BEGIN" not in text or "PRIVATE KEY-----" not in text:
        raise SettingsError(f"ARBORIST_PRIVATE_KEY_FILE: {path} is not a PEM private key")
    return text
