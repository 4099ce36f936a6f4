"""The stand-in's transport layer: auth, injected faults, the request log, and error answers.

One middleware wraps every route, so each check a real GitHub makes before a handler runs (App JWT,
installation token) and each fault a test asks for (5xx, rate limits, slow or lost answers) applies
uniformly; every request is logged with its route so tests and the OpenAPI check can inspect them.
"""

from __future__ import annotations

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
    import asyncio
    import json as jsonlib

    @app.middleware("http")
    async def transport(request, call_next):
        with state.lock:
            faults = state.faults
            delay = faults.delay if (faults.delay and (faults.delay_next == 0 or faults.delay_next > 0)) else 0.0
            if faults.delay_next > 0:
                faults.delay_next -= 1
                if faults.delay_next == 0:
                    faults.delay = 0.0
            injected = None
            if faults.errors:
                injected = error_response(faults.errors.pop(0), "Server Error (injected)")
            elif faults.rate_limits:
                faults.rate_limits -= 1
                injected = error_response(403, SECONDARY_MESSAGE, {"Retry-After": str(faults.retry_after)})
            elif faults.primary_rate_limits:
                faults.primary_rate_limits -= 1
                reset = int(time.time()) + faults.retry_after
                injected = error_response(403, "API rate limit exceeded",
                                          {"X-RateLimit-Remaining": "0", "X-RateLimit-Reset": str(reset)})
        if delay:
            await asyncio.sleep(delay)
        started = time.perf_counter()
        body = await request.body()
        entry: dict[str, Any] = {"method": request.method, "path": request.url.path,
                                 "query": dict(request.query_params), "body": None, "status": None, "response": None}
        if body:
            try:
                entry["body"] = jsonlib.loads(body)
            except ValueError:
                entry["body"] = body.decode("utf-8", "replace")
        response = injected
        if response is None:
            auth = request.headers.get("authorization", "")
            scheme, _, token = auth.partition(" ")
            if request.url.path.startswith("/app/"):
                problem = check_jwt(state, token) if scheme.lower() == "bearer" else "JWT required"
            else:
                with state.lock:
                    known = state.tokens.get(token)
                problem = None if known and known[1] > time.time() else "Bad credentials"
                if state.public_key_pem is None and not auth:
                    problem = None  # auth-less mode for simple tests
            response = error_response(401, problem) if problem else await call_next(request)
            lost = None
            with state.lock:
                if not problem and state.faults.lost_answers and request.method in state.faults_methods \
                        and request.url.path.startswith("/repos/") \
                        and response.status_code < 300:  # the work is done; the answer gets lost
                    lost = state.faults.lost_answers.pop(0)
            if lost is not None:
                if hasattr(response, "body_iterator"):
                    [chunk async for chunk in response.body_iterator]
                response = error_response(lost, "Server Error (answer lost)")
        raw = b"".join([chunk async for chunk in response.body_iterator]) if hasattr(response, "body_iterator") \
            else response.body
        entry["status"] = response.status_code
        route = request.scope.get("route")
        entry["route"] = getattr(route, "path", None)
        if raw:
            try:
                entry["response"] = jsonlib.loads(raw)
            except ValueError:
                entry["response"] = None
        entry["ms"] = (time.perf_counter() - started) * 1000
        with state.changed:
            state.log.append(entry)
            state.changed.notify_all()
        headers = dict(response.headers)
        headers.pop("content-length", None)
        headers.setdefault("x-ratelimit-limit", "5000")
        headers.setdefault("x-ratelimit-remaining", "4999")
        headers.setdefault("x-ratelimit-reset", str(int(time.time()) + 3600))
        return Response(raw, status_code=response.status_code, headers=headers, media_type=response.media_type)

