"""The stand-in's transport layer: auth, injected faults, the request log, and error answers.

One middleware wraps every route, so each check a real GitHub makes before a handler runs (App JWT,
installation token) and each fault a test asks for (5xx, rate limits, slow or lost answers) applies
uniformly; every request is logged with its route so tests and the OpenAPI check can inspect them.
"""

from __future__ import annotations

import json
import time
from typing import Any

from fastapi import Request
from fastapi.responses import JSONResponse, Response

from sandbox.standins.github_state import GitHubState

SECONDARY_MESSAGE = "You have exceeded a secondary rate limit. Please wait a few minutes before you try again."


def error_response(status: int, message: str, headers: dict[str, str] | None = None):
    """An error in GitHub's shape: a message and a documentation URL."""
    return JSONResponse({"message": message, "documentation_url": "https://docs.github.com/rest"},
                        status_code=status, headers=headers)


def base_url(request: Request) -> str:
    """The stand-in's own URL, so the URLs in answers point back at it."""
    return str(request.base_url).rstrip("/")


async def json_body(request: Request) -> Any:
    """The request's JSON, or None when it is not JSON (the route then answers 422)."""
    try:
        return await request.json()
    except ValueError:
        return None


def check_jwt(state: GitHubState, token: str) -> str | None:
    """None when the App JWT is valid, else why not."""
    if state.public_key_pem is None:
        return None
    import jwt

    try:
        claims = jwt.decode(token, state.public_key_pem, algorithms=["RS256"], options={"require": ["exp", "iat", "iss"]})
    except jwt.PyJWTError as exc:
        return f"A JSON web token could not be decoded ({type(exc).__name__})"
    if str(claims["iss"]) != str(state.app_id) or claims["exp"] - claims["iat"] > 660:
        return "'Issuer' claim ('iss') must be the App id, and the token may live at most 10 minutes"
    return None


def install_middleware(app: Any, state: GitHubState) -> None:
    """Every request: injected faults first, then auth and the route, then the log entry and rate headers."""
    import asyncio

    @app.middleware("http")
    async def transport(request, call_next):
        delay, injected = _take_faults(state)
        if delay:
            await asyncio.sleep(delay)
        started = time.perf_counter()
        body = await request.body()
        entry: dict[str, Any] = {"method": request.method, "path": request.url.path,
                                 "query": dict(request.query_params), "body": _json_or(body, _text(body)),
                                 "status": None, "response": None}
        response = injected if injected is not None else await _answer(state, request, call_next)
        raw = await _drain(response)
        route = request.scope.get("route")
        entry.update(status=response.status_code, route=getattr(route, "path", None), response=_json_or(raw, None),
                     ms=(time.perf_counter() - started) * 1000)
        with state.changed:
            state.log.append(entry)
            state.changed.notify_all()
        headers = dict(response.headers)
        headers.pop("content-length", None)
        headers.setdefault("x-ratelimit-limit", "5000")
        headers.setdefault("x-ratelimit-remaining", "4999")
        headers.setdefault("x-ratelimit-reset", str(int(time.time()) + 3600))
        return Response(raw, status_code=response.status_code, headers=headers, media_type=response.media_type)


def _take_faults(state: GitHubState) -> tuple[float, Any]:
    """The delay and the injected answer (5xx, secondary or primary rate limit) for this request, if any."""
    with state.lock:
        faults = state.faults
        delay = faults.delay if (faults.delay and (faults.delay_next == 0 or faults.delay_next > 0)) else 0.0
        if faults.delay_next > 0:
            faults.delay_next -= 1
            if faults.delay_next == 0:
                faults.delay = 0.0
        if faults.errors:
            return delay, error_response(faults.errors.pop(0), "Server Error (injected)")
        if faults.rate_limits:
            faults.rate_limits -= 1
            return delay, error_response(403, SECONDARY_MESSAGE, {"Retry-After": str(faults.retry_after)})
        if faults.primary_rate_limits:
            faults.primary_rate_limits -= 1
            reset = int(time.time()) + faults.retry_after
            return delay, error_response(403, "API rate limit exceeded",
                                         {"X-RateLimit-Remaining": "0", "X-RateLimit-Reset": str(reset)})
    return delay, None


def _auth_problem(state: GitHubState, request: Any) -> str | None:
    """Why this request's credentials are refused (an App JWT for /app/, else a live installation token)."""
    auth = request.headers.get("authorization", "")
    scheme, _, token = auth.partition(" ")
    if request.url.path.startswith("/app/"):
        return check_jwt(state, token) if scheme.lower() == "bearer" else "JWT required"
    if state.public_key_pem is None and not auth:
        return None  # auth-less mode for simple tests
    with state.lock:
        known = state.tokens.get(token)
    return None if known and known[1] > time.time() else "Bad credentials"


async def _answer(state: GitHubState, request: Any, call_next: Any) -> Any:
    """The route's answer after auth; a 2xx answer to a write may be lost on the way back, as a test asked."""
    problem = _auth_problem(state, request)
    if problem:
        return error_response(401, problem)
    response = await call_next(request)
    with state.lock:
        lost = state.faults.lost_answers.pop(0) if (
            state.faults.lost_answers and request.method in state.faults_methods
            and request.url.path.startswith("/repos/") and response.status_code < 300) else None
    if lost is None:
        return response
    await _drain(response)  # the work is done; the answer gets lost
    return error_response(lost, "Server Error (answer lost)")


async def _drain(response: Any) -> bytes:
    if hasattr(response, "body_iterator"):
        return b"".join([chunk async for chunk in response.body_iterator])
    return response.body


def _text(raw: bytes) -> str | None:
    return raw.decode("utf-8", "replace") if raw else None


def _json_or(raw: bytes, fallback: Any) -> Any:
    """`raw` parsed as JSON; `fallback` when it is not JSON; None when empty."""
    if not raw:
        return None
    try:
        return json.loads(raw)
    except ValueError:
        return fallback
