"""Stand-in routes for check runs, validated as GitHub validates them.

Create, update (annotations accumulate over updates, at most `MAX_ANNOTATIONS` per request), read, and
list by ref; a request GitHub would reject with 422 (no conclusion on completion, a bad annotation)
is rejected here too, without changing the run, so the bot's batching and ordering are tested for real.
"""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Request  # module level: FastAPI resolves route annotations from globals
from fastapi.responses import JSONResponse

from sandbox.standins.github_shapes import check_run_json
from sandbox.standins.github_state import GitHubState, now_iso
from sandbox.standins.github_transport import base_url, error_response, json_body

MAX_ANNOTATIONS = 50  # per create/update request


def apply_output(run: dict[str, Any], output: Any) -> str | None:
    """Add a request's `output` to `run`; returns why GitHub would answer 422, or None."""
    if output is None:
        return None
    if not isinstance(output, dict) or not isinstance(output.get("title"), str) \
            or not isinstance(output.get("summary"), str):
        return "output needs a title and a summary"
    annotations = output.get("annotations") or []
    if len(annotations) > MAX_ANNOTATIONS:
        return f"Only {MAX_ANNOTATIONS} annotations are allowed per request"
    for a in annotations:
        need = ("path", "start_line", "end_line", "annotation_level", "message")
        if not isinstance(a, dict) or any(k not in a for k in need) or \
                a["annotation_level"] not in ("notice", "warning", "failure"):
            return "annotation is missing a required field or has a bad annotation_level"
    run.update(title=output["title"], summary=output["summary"], text=output.get("text") or "")
    run["annotations"].extend(annotations)
    return None


def apply_status(run: dict[str, Any], data: dict[str, Any]) -> str | None:
    """Apply a request's status and conclusion to `run`; returns why GitHub would answer 422, or None."""
    status = data.get("status", run["status"])
    conclusion = data.get("conclusion")
    if status not in ("queued", "in_progress", "completed"):
        return "status is not one of queued, in_progress, completed"
    if conclusion is not None:
        status = "completed"
    if status == "completed" and (conclusion or run["conclusion"]) is None:
        return "conclusion is required when status is completed"
    run["status"] = status
    if conclusion:
        run.update(conclusion=conclusion, completed_at=now_iso())
    if data.get("details_url"):
        run["details_url"] = data["details_url"]
    return None


def new_run(state: GitHubState, data: dict[str, Any]) -> dict[str, Any]:
    """A queued run as the stand-in stores it, before the request's status and output apply."""
    return {"id": state.next_id(), "name": data["name"], "head_sha": data["head_sha"], "status": "queued",
            "conclusion": None, "started_at": now_iso(), "completed_at": None,
            "external_id": data.get("external_id", ""), "details_url": data.get("details_url", ""),
            "title": None, "summary": None, "text": None, "annotations": [], "suite_id": state.next_id(),
            "requests": 1}


def add_check_routes(r: APIRouter, state: GitHubState) -> None:
    """POST and PATCH a check run, GET one, and list a ref's runs."""
    _add_write_routes(r, state)
    _add_read_routes(r, state)


def _add_write_routes(r: APIRouter, state: GitHubState) -> None:
    @r.post("/repos/{owner}/{name}/check-runs", status_code=201)
    async def create_check_run(owner: str, name: str, request: Request):
        data = await json_body(request)
        if not isinstance(data, dict) or not isinstance(data.get("name"), str) or not isinstance(data.get("head_sha"), str):
            return error_response(422, "Invalid request: name and head_sha are required")
        with state.lock:
            repo = state.find_repo(owner, name)
            if repo is None:
                return error_response(404, "Not Found")
            run = new_run(state, data)
            problem = apply_status(run, data) or apply_output(run, data.get("output"))
            if problem:
                return error_response(422, problem)
            repo.check_runs[run["id"]] = run
            return JSONResponse(check_run_json(base_url(request), repo, run, state.app_id, state.bot_login),
                                status_code=201)

    @r.patch("/repos/{owner}/{name}/check-runs/{run_id}")
    async def update_check_run(owner: str, name: str, run_id: int, request: Request):
        data = await json_body(request)
        if not isinstance(data, dict):
            return error_response(422, "Invalid request")
        with state.lock:
            repo = state.find_repo(owner, name)
            if repo is None or run_id not in repo.check_runs:
                return error_response(404, "Not Found")
            run = repo.check_runs[run_id]
            trial = {**run, "annotations": list(run["annotations"])}
            problem = apply_status(trial, data) or apply_output(trial, data.get("output"))
            if problem:
                return error_response(422, problem)
            trial["requests"] += 1
            run.update(trial)
            return check_run_json(base_url(request), repo, run, state.app_id, state.bot_login)


def _add_read_routes(r: APIRouter, state: GitHubState) -> None:
    @r.get("/repos/{owner}/{name}/commits/{ref}/check-runs")
    def list_check_runs_for_ref(owner: str, name: str, ref: str, request: Request, check_name: str | None = None,
                                per_page: int = 30, page: int = 1):
        with state.lock:
            repo = state.find_repo(owner, name)
            if repo is None:
                return error_response(404, "Not Found")
            sha = repo.branches.get(ref, ref)
            runs = [c for c in repo.check_runs.values()
                    if c["head_sha"] == sha and (check_name is None or c["name"] == check_name)]
            runs.sort(key=lambda c: -c["id"])
            per_page = max(1, min(per_page, 100))
            chunk = runs[(page - 1) * per_page: page * per_page]
            return {"total_count": len(runs), "check_runs": [
                check_run_json(base_url(request), repo, c, state.app_id, state.bot_login) for c in chunk]}

    @r.get("/repos/{owner}/{name}/check-runs/{run_id}")
    def get_check_run(owner: str, name: str, run_id: int, request: Request):
        with state.lock:
            repo = state.find_repo(owner, name)
            if repo is None or run_id not in repo.check_runs:
                return error_response(404, "Not Found")
            return check_run_json(base_url(request), repo, repo.check_runs[run_id], state.app_id, state.bot_login)
