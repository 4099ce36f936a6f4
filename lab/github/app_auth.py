"""GitHub App auth: a short-lived JWT signed with the App's key buys installation tokens, cached.

Tokens are refreshed 5 minutes before they expire. The token exchange is one POST with a timeout
and the same retry policy as every other call. Tokens and the key are never logged.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime

from lab.github.retry import RetryPolicy, call_with_retries
from schemas.masking import register_secret

JWT_LIFETIME = 540  # seconds; GitHub allows at most 600
JWT_BACKDATE = 60  # seconds, for clock drift between us and GitHub
REFRESH_MARGIN = 300  # seconds before expiry at which a cached token is replaced
USER_AGENT = "arborist-bot"


class AuthError(RuntimeError):
    """The App could not get an installation token (wrong key or id, App not installed)."""


@dataclass(frozen=True)
class InstallationToken:
    token: str
    expires_at: float  # epoch seconds

    def __repr__(self) -> str:
        return f"InstallationToken(expires_at={self.expires_at})"


def make_jwt(app_id: int, private_key: str, now: float) -> str:
    import jwt

    claims = {"iat": int(now) - JWT_BACKDATE, "exp": int(now) + JWT_LIFETIME, "iss": str(app_id)}
    return jwt.encode(claims, private_key, algorithm="RS256")


def _parse_expiry(value: str) -> float:
    return datetime.fromisoformat(value.replace("Z", "+00:00")).timestamp()


class AppAuth:
    """Caches one installation token per installation id; thread-safe."""

    def __init__(self, base_url: str, app_id: int, private_key: str, *, timeout: float = 10.0,
                 policy: RetryPolicy | None = None, clock: Callable[[], float] = time.time, session=None,
                 metrics=None):
        import requests

        self.base_url = base_url.rstrip("/")
        self.app_id, self._key, self.timeout = app_id, private_key, timeout
        self.policy = policy or RetryPolicy()
        self.clock = clock
        self.metrics = metrics
        self.session = session or requests.Session()
        self._tokens: dict[int, InstallationToken] = {}
        self._lock = threading.Lock()
        self.exchanges = 0  # how many tokens were fetched (tests check the cache)

    def token(self, installation_id: int) -> str:
        """A valid installation token, fetched only when none is cached or it expires within 5 minutes."""
        with self._lock:
            cached = self._tokens.get(installation_id)
            if cached and cached.expires_at - self.clock() > REFRESH_MARGIN:
                return cached.token
            fresh = self._exchange(installation_id)
            register_secret(fresh.token)  # masked wherever this process writes (schemas.masking)
            self._tokens[installation_id] = fresh
            return fresh.token

    def _exchange(self, installation_id: int) -> InstallationToken:
        import requests

        url = f"{self.base_url}/app/installations/{installation_id}/access_tokens"

        def post() -> InstallationToken:
            headers = {"Authorization": f"Bearer {make_jwt(self.app_id, self._key, time.time())}",
                       "Accept": "application/vnd.github+json", "User-Agent": USER_AGENT,
                       "X-GitHub-Api-Version": "2022-11-28"}
            response = self.session.post(url, headers=headers, timeout=self.timeout)
            if self.metrics is not None:
                self.metrics.github_call("access_token", response.status_code)
            if response.status_code != 201:
                raise _HTTPError(response.status_code, dict(response.headers), response.text[:500])
            data = response.json()
            return InstallationToken(str(data["token"]), _parse_expiry(str(data["expires_at"])))

        def classify(exc: BaseException):
            if isinstance(exc, _HTTPError):
                return exc.status, exc.headers, exc.body
            if isinstance(exc, requests.RequestException):
                return None, {}, str(exc)
            return None

        try:
            token = call_with_retries(post, self.policy, classify, self._on_retry)
        except _HTTPError as exc:
            if self.metrics is not None:
                self.metrics.github_error("access_token")
            raise AuthError(f"installation {installation_id}: token exchange answered {exc.status}: "
                            f"{exc.body[:200]}") from None
        self.exchanges += 1
        return token


    def _on_retry(self, reason: str, wait: float) -> None:
        if self.metrics is not None:
            self.metrics.github_retry(reason)


class _HTTPError(Exception):
    def __init__(self, status: int, headers: dict[str, str], body: str):
        super().__init__(f"HTTP {status}")
        self.status, self.headers, self.body = status, headers, body
