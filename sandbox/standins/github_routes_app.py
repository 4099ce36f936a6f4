"""Stand-in routes for the App itself and for the repository's people and Actions.

Installation tokens (what every other call must carry), collaborator permission and team membership
(who may run slash commands), and workflow dispatch and cancellation (the `actions` executor).
"""

from __future__ import annotations

import secrets
import time

from fastapi import APIRouter, Request  # module level: FastAPI resolves route annotations from globals
from fastapi.responses import JSONResponse, Response

from sandbox.standins.github_shapes import user_json
from sandbox.standins.github_state import GitHubState, now_iso
from sandbox.standins.github_transport import base_url, error_response, json_body

TOKEN_LIFETIME = 3600  # seconds, like GitHub's installation tokens


def new_token() -> str:
    """An installation token in GitHub's format."""
    return "ghs_" + secrets.token_urlsafe(27)


def add_app_routes(r: APIRouter, state: GitHubState) -> None:
    """Installation tokens, permissions, team membership, workflow dispatch and run cancellation."""

    @r.post("/app/installations/{installation_id}/access_tokens", status_code=201)
    def access_token(installation_id: int):
        with state.lock:
            if installation_id not in state.installations:
                return error_response(404, "Not Found")
            token, expiry = new_token(), time.time() + TOKEN_LIFETIME
            state.tokens[token] = (installation_id, expiry)
        return JSONResponse({"token": token, "expires_at": now_iso(expiry), "repository_selection": "all",
                             "permissions": {"checks": "write", "contents": "read", "pull_requests": "write"}},
                            status_code=201)

    @r.get("/repos/{owner}/{name}/collaborators/{login}/permission")
    def permission(owner: str, name: str, login: str, request: Request):
        with state.lock:
            repo = state.find_repo(owner, name)
            if repo is None:
                return error_response(404, "Not Found")
            role = repo.collaborators.get(login)
        if role is None:
            return error_response(404, f"{login} is not a user")  # GitHub: 404 for non-collaborators
        legacy = {"maintain": "write", "triage": "read"}.get(role, role)
        user = {**user_json(base_url(request), login), "role_name": role, "permissions": {
            "admin": role == "admin", "maintain": role in ("admin", "maintain"),
            "push": role in ("admin", "maintain", "write"), "triage": role != "read", "pull": True}}
        return {"permission": legacy, "role_name": role, "user": user}

    @r.get("/orgs/{org}/teams/{slug}/memberships/{login}")
    def team_membership(org: str, slug: str, login: str, request: Request):
        with state.lock:
            member = login in state.teams.get((org, slug), set())
        if not member:
            return error_response(404, "Not Found")
        return {"url": f"{base_url(request)}/orgs/{org}/teams/{slug}/memberships/{login}", "role": "member",
                "state": "active"}

    @r.post("/repos/{owner}/{name}/actions/workflows/{workflow}/dispatches", status_code=204)
    async def dispatch(owner: str, name: str, workflow: str, request: Request):
        data = await json_body(request)
        if not isinstance(data, dict) or not isinstance(data.get("ref"), str):
            return error_response(422, "Invalid request: ref is required")
        with state.lock:
            repo = state.find_repo(owner, name)
            if repo is None:
                return error_response(404, "Not Found")
            repo.dispatches.append({"workflow": workflow, "ref": data["ref"], "inputs": data.get("inputs") or {}})
        return Response(status_code=204)

    @r.post("/repos/{owner}/{name}/actions/runs/{run_id}/cancel", status_code=202)
    def cancel_run(owner: str, name: str, run_id: int):
        with state.lock:
            repo = state.find_repo(owner, name)
            if repo is None:
                return error_response(404, "Not Found")
            repo.cancelled_runs.append(run_id)
        return {}
