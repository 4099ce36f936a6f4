"""An HTTP stand-in of the GitHub REST API (FastAPI, in memory) so the real PyGithub adapter runs.

Seed it through `GitHubState` (repos, commits with file trees, PRs whose changed files are the diff
against the base branch, collaborators, teams, installations, people's comments, merges), start it
with `serve_in_thread`, then read what the bot did (comments, reactions, check runs with every
annotation, labels, dispatches). It checks App JWTs against the App's public key and installation
tokens on every call, answers in GitHub's shapes with URLs that point back at itself, and can inject
faults: 5xx, secondary rate limits with Retry-After, slow answers. More routes: `build_app(extra_routers=...)`.

This module is the entry point: the app factory, the thread runner, and the names the other
`github_*` modules define, re-exported so importers need only this one:
`github_state` (memory and seeding), `github_shapes` (GitHub's JSON), `github_transport` (auth,
faults, request log), and the routes by area: `github_routes_pulls`, `_issues`, `_checks`, `_app`.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from fastapi import APIRouter

from sandbox.standins.github_routes_app import TOKEN_LIFETIME, add_app_routes, new_token
from sandbox.standins.github_routes_checks import MAX_ANNOTATIONS, add_check_routes
from sandbox.standins.github_routes_issues import add_issue_routes
from sandbox.standins.github_routes_pulls import add_pull_routes
from sandbox.standins.github_shapes import (
    INLINE_CONTENT_BYTES,
    URL_KEYS,
    blob_sha,
    check_run_json,
    comment_json,
    content_json,
    diff_entry_json,
    pull_json,
    repo_json,
    user_json,
)
from sandbox.standins.github_state import Faults, GitHubState, Repo, now_iso, sha1_hex
from sandbox.standins.github_transport import SECONDARY_MESSAGE, check_jwt, error_response, install_middleware

__all__ = [
    "INLINE_CONTENT_BYTES", "MAX_ANNOTATIONS", "SECONDARY_MESSAGE", "TOKEN_LIFETIME", "URL_KEYS",
    "Faults", "GitHubState", "Repo", "RunningStandin",
    "add_core_routes", "blob_sha", "build_app", "check_run_json", "comment_json", "content_json",
    "diff_entry_json", "install_middleware", "make_app_key", "new_token", "pull_json", "repo_json",
    "serve_app_in_thread", "serve_in_thread", "user_json",
]

# The names these had when they lived here, for any importer that still uses them.
_now_iso, _sha, _error, _check_jwt = now_iso, sha1_hex, error_response, check_jwt


def add_core_routes(app: Any, state: GitHubState) -> None:
    """The routes the validation bot and the slash commands use."""
    r = APIRouter()
    add_app_routes(r, state)
    add_pull_routes(r, state)
    add_issue_routes(r, state)
    add_check_routes(r, state)
    app.include_router(r)


def build_app(state: GitHubState, extra_routers: Iterable[Any] = ()):
    """The FastAPI app over `state`; `extra_routers` are APIRouters other stand-in parts add."""
    from fastapi import FastAPI

    app = FastAPI(title="GitHub stand-in", docs_url=None, redoc_url=None, openapi_url=None)
    app.state.github = state
    install_middleware(app, state)
    add_core_routes(app, state)
    for router in extra_routers:
        app.include_router(router)
    return app


@dataclass
class RunningStandin:
    """A stand-in serving on 127.0.0.1 in a background thread."""

    base_url: str
    state: GitHubState
    server: Any
    thread: threading.Thread

    def stop(self) -> None:
        self.server.should_exit = True
        self.thread.join(timeout=10)

    def __enter__(self) -> RunningStandin:
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()


def serve_in_thread(state: GitHubState | None = None, app: Any = None, host: str = "127.0.0.1") -> RunningStandin:
    """Start uvicorn on a free port in a daemon thread; returns once it accepts connections."""
    if app is None:
        state = state or GitHubState()
        app = build_app(state)
    return serve_app_in_thread(app, host, state or app.state.github)


def serve_app_in_thread(app: Any, host: str = "127.0.0.1", state: Any = None) -> RunningStandin:
    """Serve any ASGI app on a free loopback port in a thread (also used for Arborist's own server)."""
    import socket

    import uvicorn

    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)  # accepted sockets inherit it: no 40 ms Nagle stalls
    sock.bind((host, 0))
    port = sock.getsockname()[1]
    config = uvicorn.Config(app, log_level="warning", access_log=False, lifespan="on")
    server = uvicorn.Server(config)
    thread = threading.Thread(target=server.run, kwargs={"sockets": [sock]}, daemon=True, name=f"uvicorn-{port}")
    thread.start()
    deadline = time.monotonic() + 15
    while not server.started:
        if time.monotonic() > deadline or not thread.is_alive():
            raise RuntimeError(f"server on {host}:{port} did not start")
        time.sleep(0.01)
    return RunningStandin(f"http://{host}:{port}", state, server, thread)


def make_app_key() -> tuple[str, str]:
    """A fresh RSA key pair for a test App: (private PEM, public PEM)."""
    from cryptography.hazmat.primitives import serialization
    from cryptography.hazmat.primitives.asymmetric import rsa

    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    private = key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                                serialization.NoEncryption()).decode()
    public = key.public_key().public_bytes(serialization.Encoding.PEM,
                                           serialization.PublicFormat.SubjectPublicKeyInfo).decode()
    return private, public

