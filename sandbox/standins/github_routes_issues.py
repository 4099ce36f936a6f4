"""Stand-in routes for issue comments, reactions and labels: how the bot talks on a PR.

Comments are created by the bot (people's comments are seeded with `GitHubState.add_comment`) and
only the bot may edit its own, as an App token allows; reactions and labels are idempotent as on GitHub.
"""

from __future__ import annotations

from fastapi import APIRouter, Request  # module level: FastAPI resolves route annotations from globals
from fastapi.responses import JSONResponse

from sandbox.standins.github_shapes import comment_json, user_json
from sandbox.standins.github_state import GitHubState, now_iso
from sandbox.standins.github_transport import base_url, error_response, json_body

MAX_COMMENT_CHARS = 65536  # GitHub rejects longer comment bodies with 422
REACTIONS = frozenset({"+1", "-1", "laugh", "confused", "heart", "hooray", "rocket", "eyes"})


def add_issue_routes(r: APIRouter, state: GitHubState) -> None:
    """List, create, read and edit comments; react to a comment; add labels."""
    _add_comment_routes(r, state)
    _add_reaction_and_label_routes(r, state)


def _add_comment_routes(r: APIRouter, state: GitHubState) -> None:
    @r.get("/repos/{owner}/{name}/issues/{number}/comments")
    def list_comments(owner: str, name: str, number: int, request: Request, per_page: int = 30, page: int = 1):
        with state.lock:
            repo = state.find_repo(owner, name)
            if repo is None:
                return error_response(404, "Not Found")
            items = [comment_json(base_url(request), repo, c)
                     for c in repo.comments.values() if c["issue_number"] == number]
            per_page = max(1, min(per_page, 100))
            return items[(page - 1) * per_page: page * per_page]

    @r.post("/repos/{owner}/{name}/issues/{number}/comments", status_code=201)
    async def create_comment(owner: str, name: str, number: int, request: Request):
        data = await json_body(request)
        if not isinstance(data, dict) or not isinstance(data.get("body"), str):
            return error_response(422, "Invalid request: body is required")
        if len(data["body"]) > MAX_COMMENT_CHARS:
            return error_response(422, "Body is too long (maximum is 65536 characters)")
        with state.lock:
            repo = state.find_repo(owner, name)
            if repo is None or (number not in repo.pulls):
                return error_response(404, "Not Found")
            cid, now = state.next_id(), now_iso()
            repo.comments[cid] = {"id": cid, "issue_number": number, "body": data["body"], "author": state.bot_login,
                                  "author_type": "Bot", "created_at": now, "updated_at": now, "edits": 0}
            return JSONResponse(comment_json(base_url(request), repo, repo.comments[cid]), status_code=201)

    @r.get("/repos/{owner}/{name}/issues/comments/{comment_id}")
    def get_comment(owner: str, name: str, comment_id: int, request: Request):
        with state.lock:
            repo = state.find_repo(owner, name)
            if repo is None or comment_id not in repo.comments:
                return error_response(404, "Not Found")
            return comment_json(base_url(request), repo, repo.comments[comment_id])

    @r.patch("/repos/{owner}/{name}/issues/comments/{comment_id}")
    async def edit_comment(owner: str, name: str, comment_id: int, request: Request):
        data = await json_body(request)
        if not isinstance(data, dict) or not isinstance(data.get("body"), str):
            return error_response(422, "Invalid request: body is required")
        with state.lock:
            repo = state.find_repo(owner, name)
            if repo is None or comment_id not in repo.comments:
                return error_response(404, "Not Found")
            comment = repo.comments[comment_id]
            if comment["author"] != state.bot_login:
                return error_response(403, "Resource not accessible by integration")
            comment.update(body=data["body"], updated_at=now_iso(), edits=comment.get("edits", 0) + 1)
            return comment_json(base_url(request), repo, comment)


def _add_reaction_and_label_routes(r: APIRouter, state: GitHubState) -> None:
    @r.post("/repos/{owner}/{name}/issues/comments/{comment_id}/reactions", status_code=201)
    async def add_reaction(owner: str, name: str, comment_id: int, request: Request):
        data = await json_body(request)
        if not isinstance(data, dict) or data.get("content") not in REACTIONS:
            return error_response(422, "Invalid request: content must be a reaction")
        with state.lock:
            repo = state.find_repo(owner, name)
            if repo is None or comment_id not in repo.comments:
                return error_response(404, "Not Found")
            reactions = repo.reactions.setdefault(comment_id, [])
            for existing in reactions:  # GitHub answers 200 with the existing reaction
                if existing["content"] == data["content"]:
                    return JSONResponse(existing, status_code=200)
            reaction = {"id": state.next_id(), "node_id": "RE_x", "content": data["content"],
                        "user": user_json(base_url(request), state.bot_login, "Bot"), "created_at": now_iso()}
            reactions.append(reaction)
            return JSONResponse(reaction, status_code=201)

    @r.post("/repos/{owner}/{name}/issues/{number}/labels")
    async def add_labels(owner: str, name: str, number: int, request: Request):
        data = await json_body(request)
        labels = data.get("labels") if isinstance(data, dict) else data
        if not isinstance(labels, list) or not all(isinstance(x, str) for x in labels):
            return error_response(422, "Invalid request: labels must be a list of strings")
        with state.lock:
            repo = state.find_repo(owner, name)
            if repo is None or number not in repo.pulls:
                return error_response(404, "Not Found")
            current = repo.labels.setdefault(number, [])
            current.extend(x for x in labels if x not in current)
            api = f"{base_url(request)}/repos/{repo.full_name}"
            return [{"id": i + 1, "node_id": f"L_{i}", "url": f"{api}/labels/{x}",
                     "name": x, "description": None, "color": "ededed", "default": False}
                    for i, x in enumerate(current)]
