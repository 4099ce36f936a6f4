"""An HTTP stand-in of the GitHub REST API (FastAPI, in memory) so the real PyGithub adapter runs.

Seed it through `GitHubState` (repos, commits with file trees, PRs whose changed files are the diff
against the base branch, collaborators, teams, installations), start it with `serve_in_thread`,
then read what the bot did (comments, reactions, check runs with every annotation, labels,
dispatches). It checks App JWTs against the App's public key and installation tokens on every
call, answers in GitHub's shapes with URLs that point back at itself, and can inject faults: 5xx,
secondary rate limits with Retry-After, slow answers. More routes: `build_app(extra_routers=...)`.
"""

from __future__ import annotations

import base64
import hashlib
import itertools
import secrets
import threading
import time
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from fastapi import APIRouter, Request  # module level: FastAPI resolves route annotations from globals
from fastapi.responses import JSONResponse, Response

TOKEN_LIFETIME = 3600  # seconds, like GitHub's installation tokens
MAX_ANNOTATIONS = 50  # per create/update request
INLINE_CONTENT_BYTES = 1024 * 1024  # the contents API inlines files up to 1 MB; larger: blob API
SECONDARY_MESSAGE = "You have exceeded a secondary rate limit. Please wait a few minutes before you try again."
URL_KEYS = ("events", "followers", "following", "gists", "organizations", "received_events", "repos",
            "starred", "subscriptions")


def _now_iso(t: float | None = None) -> str:
    return datetime.fromtimestamp(time.time() if t is None else t, UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def _sha(*parts: bytes | str) -> str:
    h = hashlib.sha1()
    for p in parts:
        h.update(p.encode() if isinstance(p, str) else p)
    return h.hexdigest()


@dataclass
class Faults:
    """Fault switches; each applies to the next N API requests (seeding is direct, never faulted)."""

    errors: list[int] = field(default_factory=list)  # statuses to answer, one per request
    rate_limits: int = 0  # requests to answer 403 secondary rate limit
    retry_after: int = 1  # seconds, in the Retry-After header
    primary_rate_limits: int = 0  # requests to answer 403 with X-RateLimit-Remaining: 0
    delay: float = 0.0  # seconds before every answer
    delay_next: int = 0  # if > 0, the delay applies to this many requests only
    lost_answers: list[int] = field(default_factory=list)  # carry the request out, then answer this status


@dataclass
class Repo:
    full_name: str
    id: int
    default_branch: str = "main"
    private: bool = False
    branches: dict[str, str] = field(default_factory=dict)  # name -> sha
    commits: dict[str, dict[str, bytes]] = field(default_factory=dict)  # sha -> full tree
    commit_meta: dict[str, dict[str, Any]] = field(default_factory=dict)  # sha -> message, parent
    pulls: dict[int, dict[str, Any]] = field(default_factory=dict)
    comments: dict[int, dict[str, Any]] = field(default_factory=dict)  # id -> comment (with issue_number)
    reactions: dict[int, list[dict[str, Any]]] = field(default_factory=dict)
    labels: dict[int, list[str]] = field(default_factory=dict)
    check_runs: dict[int, dict[str, Any]] = field(default_factory=dict)
    collaborators: dict[str, str] = field(default_factory=dict)  # login -> role name
    dispatches: list[dict[str, Any]] = field(default_factory=list)
    cancelled_runs: list[int] = field(default_factory=list)


class GitHubState:
    """Everything the stand-in knows, behind one lock. Seed with the methods; inspect the attributes."""

    def __init__(self, app_id: int = 4242, public_key_pem: str | None = None, bot_login: str = "arborist[bot]"):
        self.app_id, self.public_key_pem, self.bot_login = app_id, public_key_pem, bot_login
        self.lock = threading.RLock()
        self.repos: dict[str, Repo] = {}
        self.teams: dict[tuple[str, str], set[str]] = {}
        self.installations: set[int] = set()
        self.tokens: dict[str, tuple[int, float]] = {}  # token -> (installation id, expiry)
        self.faults = Faults()
        self.faults_methods: tuple[str, ...] = ("POST",)
        self.log: list[dict[str, Any]] = []  # every request: method, path, route, status, body, response, ms
        self.changed = threading.Condition(self.lock)  # notified after every request: wait_until() sleeps on it
        self._ids = itertools.count(1_000_001)

    def next_id(self) -> int:
        return next(self._ids)

    # ---- seeding ---------------------------------------------------------------------------------
    def add_installation(self, installation_id: int) -> None:
        with self.lock:
            self.installations.add(installation_id)

    def add_repo(self, full_name: str, default_branch: str = "main", files: dict[str, bytes | str] | None = None) -> Repo:
        with self.lock:
            repo = self.repos.setdefault(full_name, Repo(full_name, self.next_id(), default_branch))
            if default_branch not in repo.branches:
                self.commit(full_name, default_branch, files or {}, "initial commit")
            return repo

    def commit(self, repo_name: str, branch: str, files: Mapping[str, bytes | str | None], message: str = "update",
               base: str | None = None) -> str:
        """Commit onto `branch` (created from `base` or the default branch); None deletes a file."""
        with self.lock:
            repo = self.repos[repo_name]
            parent = repo.branches.get(branch) or repo.branches.get(base or repo.default_branch)
            tree = dict(repo.commits.get(parent, {})) if parent else {}
            for path, data in files.items():
                if data is None:
                    tree.pop(path, None)
                else:
                    tree[path] = data.encode() if isinstance(data, str) else data
            sha = _sha(parent or "", message, *sorted(f"{p}\0{_sha(b)}" for p, b in tree.items()), str(self.next_id()))
            repo.commits[sha] = tree
            repo.commit_meta[sha] = {"message": message, "parent": parent, "date": _now_iso()}
            repo.branches[branch] = sha
            return sha

    def open_pull(self, repo_name: str, head_branch: str, author: str = "contributor", base: str | None = None,
                  title: str = "Add a taxonomy leaf", author_type: str = "User") -> int:
        with self.lock:
            repo = self.repos[repo_name]
            number = max([0, *repo.pulls, *repo.labels]) + 1
            repo.pulls[number] = {"number": number, "state": "open", "title": title, "author": author,
                                  "author_type": author_type, "head_ref": head_branch,
                                  "base_ref": base or repo.default_branch, "merged": False, "draft": False,
                                  "created_at": _now_iso(), "id": self.next_id()}
            return number

    def pull_files(self, repo_name: str, number: int) -> list[dict[str, Any]]:
        """The PR's changed files: its head tree against the base branch, as GitHub lists them."""
        with self.lock:
            repo = self.repos[repo_name]
            pr = repo.pulls[number]
            head = repo.commits[repo.branches[pr["head_ref"]]]
            base = repo.commits[repo.branches[pr["base_ref"]]]
            out = []
            for path in sorted(set(head) | set(base)):
                if path not in base:
                    status = "added"
                elif path not in head:
                    status = "removed"
                elif head[path] != base[path]:
                    status = "modified"
                else:
                    continue
                data = head.get(path, base.get(path, b""))
                lines = data.count(b"\n")
                out.append({"filename": path, "status": status, "sha": _sha(data),
                            "additions": lines if status != "removed" else 0,
                            "deletions": lines if status == "removed" else 0, "changes": lines})
            return out

    def set_permission(self, repo_name: str, login: str, role: str) -> None:
        with self.lock:
            self.repos[repo_name].collaborators[login] = role

    def add_team_member(self, org: str, slug: str, login: str) -> None:
        with self.lock:
            self.teams.setdefault((org, slug), set()).add(login)

    def fail_next(self, count: int, status: int = 502) -> None:
        with self.lock:
            self.faults.errors.extend([status] * count)

    def lose_next_answers(self, count: int, status: int = 502, methods: tuple[str, ...] = ("POST",)) -> None:
        """The next `count` repository requests with these methods are carried out, then answered `status`."""
        with self.lock:
            self.faults.lost_answers.extend([status] * count)
            self.faults_methods = methods

    def rate_limit_next(self, count: int, retry_after: int = 1, primary: bool = False) -> None:
        with self.lock:
            if primary:
                self.faults.primary_rate_limits += count
            else:
                self.faults.rate_limits += count
            self.faults.retry_after = retry_after

    def slow(self, seconds: float, count: int = 0) -> None:
        """Delay answers by `seconds` (the next `count` requests, or all when count is 0)."""
        with self.lock:
            self.faults.delay, self.faults.delay_next = seconds, count

    # ---- inspection -------------------------------------------------------------------------------
    def wait_until(self, predicate, timeout: float = 30.0) -> bool:
        """Block until predicate(state) is true (checked after each request), or the timeout passes."""
        with self.changed:
            return self.changed.wait_for(lambda: predicate(self), timeout)

    def comments(self, repo_name: str, number: int) -> list[dict[str, Any]]:
        with self.lock:
            return [c for c in self.repos[repo_name].comments.values() if c["issue_number"] == number]

    def check_runs(self, repo_name: str, head_sha: str | None = None, name: str | None = None) -> list[dict[str, Any]]:
        with self.lock:
            return [c for c in self.repos[repo_name].check_runs.values()
                    if (head_sha is None or c["head_sha"] == head_sha) and (name is None or c["name"] == name)]

    def labels(self, repo_name: str, number: int) -> list[str]:
        with self.lock:
            return list(self.repos[repo_name].labels.get(number, []))

    def head_sha(self, repo_name: str, branch: str) -> str:
        with self.lock:
            return self.repos[repo_name].branches[branch]


# ---- GitHub's shapes ------------------------------------------------------------------------------
def user_json(base: str, login: str, user_type: str = "User") -> dict[str, Any]:
    uid = int(_sha(login)[:7], 16)
    out: dict[str, Any] = {"login": login, "id": uid, "node_id": f"U_{uid}", "avatar_url": f"{base}/avatars/{login}",
                           "gravatar_id": "", "url": f"{base}/users/{login}", "html_url": f"{base}/{login}",
                           "type": user_type, "site_admin": False}
    for key in URL_KEYS:
        out[f"{key}_url"] = f"{base}/users/{login}/{key}"
    return out


def repo_json(base: str, repo: Repo) -> dict[str, Any]:
    owner = repo.full_name.split("/")[0]
    api = f"{base}/repos/{repo.full_name}"
    out: dict[str, Any] = {
        "id": repo.id, "node_id": f"R_{repo.id}", "name": repo.full_name.split("/")[1], "full_name": repo.full_name,
        "owner": user_json(base, owner, "Organization"), "private": repo.private, "html_url": f"{base}/{repo.full_name}",
        "description": None, "fork": False, "url": api, "default_branch": repo.default_branch, "homepage": None,
        "language": None, "forks": 0, "forks_count": 0, "open_issues": 0, "open_issues_count": 0, "size": 0,
        "stargazers_count": 0, "watchers": 0, "watchers_count": 0, "has_downloads": True, "has_issues": True,
        "has_projects": False, "has_wiki": False, "has_pages": False, "archived": False, "disabled": False,
        "mirror_url": None, "license": None, "pushed_at": _now_iso(), "created_at": _now_iso(0),
        "updated_at": _now_iso(), "clone_url": f"{base}/{repo.full_name}.git", "git_url": f"{base}/{repo.full_name}.git",
        "ssh_url": f"{base}/{repo.full_name}.git", "svn_url": f"{base}/{repo.full_name}"}
    for key in ("archive", "assignees", "blobs", "branches", "collaborators", "comments", "commits", "compare",
                "contents", "contributors", "deployments", "downloads", "events", "forks", "git_commits", "git_refs",
                "git_tags", "hooks", "issue_comment", "issue_events", "issues", "keys", "labels", "languages",
                "merges", "milestones", "notifications", "pulls", "releases", "stargazers", "statuses",
                "subscribers", "subscription", "tags", "teams", "trees"):
        out[f"{key}_url"] = f"{api}/{key.replace('_', '/')}"
    return out


def pull_json(base: str, repo: Repo, pr: dict[str, Any], files: list[dict[str, Any]]) -> dict[str, Any]:
    api = f"{base}/repos/{repo.full_name}"
    n = pr["number"]
    html = f"{base}/{repo.full_name}/pull/{n}"

    def side(ref: str) -> dict[str, Any]:
        return {"label": f"{repo.full_name.split('/')[0]}:{ref}", "ref": ref, "sha": repo.branches[ref],
                "user": user_json(base, repo.full_name.split("/")[0], "Organization"), "repo": repo_json(base, repo)}

    links = {k: {"href": v} for k, v in {
        "comments": f"{api}/issues/{n}/comments", "commits": f"{api}/pulls/{n}/commits", "statuses": f"{api}/statuses/x",
        "html": html, "issue": f"{api}/issues/{n}", "review_comments": f"{api}/pulls/{n}/comments",
        "review_comment": f"{api}/pulls/comments{{/number}}", "self": f"{api}/pulls/{n}"}.items()}
    return {
        "url": f"{api}/pulls/{n}", "id": pr["id"], "node_id": f"PR_{pr['id']}", "html_url": html,
        "diff_url": f"{html}.diff", "patch_url": f"{html}.patch", "issue_url": f"{api}/issues/{n}", "number": n,
        "state": pr["state"], "locked": False, "title": pr["title"], "user": user_json(base, pr["author"], pr["author_type"]),
        "body": None, "labels": [{"id": i + 1, "node_id": f"L_{i}", "url": f"{api}/labels/{name}", "name": name,
                                  "description": None, "color": "ededed", "default": False}
                                 for i, name in enumerate(repo.labels.get(n, []))],
        "milestone": None, "active_lock_reason": None, "created_at": pr["created_at"], "updated_at": _now_iso(),
        "closed_at": None, "merged_at": None, "merge_commit_sha": None, "assignee": None, "assignees": [],
        "requested_reviewers": [], "requested_teams": [], "head": side(pr["head_ref"]), "base": side(pr["base_ref"]),
        "_links": links, "author_association": "CONTRIBUTOR", "auto_merge": None, "draft": pr["draft"],
        "merged": pr["merged"], "mergeable": True, "rebaseable": True, "mergeable_state": "clean", "merged_by": None,
        "comments": len([c for c in repo.comments.values() if c["issue_number"] == n]), "review_comments": 0,
        "maintainer_can_modify": False, "commits": 1, "additions": sum(f["additions"] for f in files),
        "deletions": sum(f["deletions"] for f in files), "changed_files": len(files),
        "commits_url": f"{api}/pulls/{n}/commits", "review_comments_url": f"{api}/pulls/{n}/comments",
        "review_comment_url": f"{api}/pulls/comments{{/number}}", "comments_url": f"{api}/issues/{n}/comments",
        "statuses_url": f"{api}/statuses/{repo.branches[pr['head_ref']]}"}


def comment_json(base: str, repo: Repo, c: dict[str, Any]) -> dict[str, Any]:
    api = f"{base}/repos/{repo.full_name}"
    return {"id": c["id"], "node_id": f"IC_{c['id']}", "url": f"{api}/issues/comments/{c['id']}",
            "html_url": f"{base}/{repo.full_name}/pull/{c['issue_number']}#issuecomment-{c['id']}",
            "body": c["body"], "user": user_json(base, c["author"], c.get("author_type", "User")),
            "created_at": c["created_at"], "updated_at": c["updated_at"],
            "issue_url": f"{api}/issues/{c['issue_number']}", "author_association": c.get("association", "NONE")}


def check_run_json(base: str, repo: Repo, run: dict[str, Any], app_id: int, bot_login: str) -> dict[str, Any]:
    api = f"{base}/repos/{repo.full_name}"
    owner = user_json(base, repo.full_name.split("/")[0], "Organization")
    return {"id": run["id"], "node_id": f"CR_{run['id']}", "head_sha": run["head_sha"], "external_id": run["external_id"],
            "url": f"{api}/check-runs/{run['id']}", "html_url": f"{base}/{repo.full_name}/runs/{run['id']}",
            "details_url": run["details_url"], "status": run["status"], "conclusion": run["conclusion"],
            "started_at": run["started_at"], "completed_at": run["completed_at"], "name": run["name"],
            "output": {"title": run["title"], "summary": run["summary"], "text": run["text"],
                       "annotations_count": len(run["annotations"]),
                       "annotations_url": f"{api}/check-runs/{run['id']}/annotations"},
            "check_suite": {"id": run["suite_id"]}, "pull_requests": [],
            "app": {"id": app_id, "slug": bot_login.removesuffix("[bot]"), "node_id": f"A_{app_id}", "owner": owner,
                    "name": "Arborist", "description": None, "external_url": base, "html_url": f"{base}/apps/arborist",
                    "created_at": _now_iso(0), "updated_at": _now_iso(0),
                    "permissions": {"checks": "write"}, "events": ["pull_request"]}}


def content_json(base: str, repo: Repo, path: str, ref: str, data: bytes) -> dict[str, Any]:
    api = f"{base}/repos/{repo.full_name}"
    sha = blob_sha(data)
    inline = len(data) <= INLINE_CONTENT_BYTES
    return {"type": "file", "encoding": "base64" if inline else "none", "size": len(data),
            "name": path.rsplit("/", 1)[-1], "path": path,
            "content": base64.b64encode(data).decode() if inline else "", "sha": sha, "url": f"{api}/contents/{path}?ref={ref}",
            "git_url": f"{api}/git/blobs/{sha}", "html_url": f"{base}/{repo.full_name}/blob/{ref}/{path}",
            "download_url": f"{base}/raw/{repo.full_name}/{ref}/{path}",
            "_links": {"self": f"{api}/contents/{path}?ref={ref}", "git": f"{api}/git/blobs/{sha}",
                       "html": f"{base}/{repo.full_name}/blob/{ref}/{path}"}}


def blob_sha(data: bytes) -> str:
    """Git's blob id: sha1 of "blob <size>\\0" + data."""
    return _sha(b"blob ", str(len(data)), b"\0", data)


def diff_entry_json(base: str, repo: Repo, f: dict[str, Any], ref: str) -> dict[str, Any]:
    api = f"{base}/repos/{repo.full_name}"
    return {**f, "blob_url": f"{base}/{repo.full_name}/blob/{ref}/{f['filename']}",
            "raw_url": f"{base}/{repo.full_name}/raw/{ref}/{f['filename']}",
            "contents_url": f"{api}/contents/{f['filename']}?ref={ref}"}


# ---- transport: auth, faults, request log -----------------------------------------------------------
def _error(status: int, message: str, headers: dict[str, str] | None = None):
    return JSONResponse({"message": message, "documentation_url": "https://docs.github.com/rest"},
                        status_code=status, headers=headers)


def _check_jwt(state: GitHubState, token: str) -> str | None:
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
                injected = _error(faults.errors.pop(0), "Server Error (injected)")
            elif faults.rate_limits:
                faults.rate_limits -= 1
                injected = _error(403, SECONDARY_MESSAGE, {"Retry-After": str(faults.retry_after)})
            elif faults.primary_rate_limits:
                faults.primary_rate_limits -= 1
                reset = int(time.time()) + faults.retry_after
                injected = _error(403, "API rate limit exceeded", {"X-RateLimit-Remaining": "0",
                                                                    "X-RateLimit-Reset": str(reset)})
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
                problem = _check_jwt(state, token) if scheme.lower() == "bearer" else "JWT required"
            else:
                with state.lock:
                    known = state.tokens.get(token)
                problem = None if known and known[1] > time.time() else "Bad credentials"
                if state.public_key_pem is None and not auth:
                    problem = None  # auth-less mode for simple tests
            response = _error(401, problem) if problem else await call_next(request)
            lost = None
            with state.lock:
                if not problem and state.faults.lost_answers and request.method in state.faults_methods \
                        and request.url.path.startswith("/repos/") \
                        and response.status_code < 300:  # the work is done; the answer gets lost
                    lost = state.faults.lost_answers.pop(0)
            if lost is not None:
                if hasattr(response, "body_iterator"):
                    [chunk async for chunk in response.body_iterator]
                response = _error(lost, "Server Error (answer lost)")
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


# ---- routes ---------------------------------------------------------------------------------------------
def add_core_routes(app: Any, state: GitHubState) -> None:
    """The routes the validation bot and the slash commands use."""
    r = APIRouter()

    def base(request: Request) -> str:
        return str(request.base_url).rstrip("/")

    def repo_or_404(owner: str, name: str) -> Repo | None:
        return state.repos.get(f"{owner}/{name}")

    async def json_body(request: Request) -> Any:
        try:
            return await request.json()
        except ValueError:
            return None

    @r.post("/app/installations/{installation_id}/access_tokens", status_code=201)
    def access_token(installation_id: int):
        with state.lock:
            if installation_id not in state.installations:
                return _error(404, "Not Found")
            token, expiry = new_token(), time.time() + TOKEN_LIFETIME
            state.tokens[token] = (installation_id, expiry)
        return JSONResponse({"token": token, "expires_at": _now_iso(expiry), "repository_selection": "all",
                             "permissions": {"checks": "write", "contents": "read", "pull_requests": "write"}},
                            status_code=201)

    @r.get("/repos/{owner}/{name}/pulls/{number}")
    def get_pull(owner: str, name: str, number: int, request: Request):
        with state.lock:
            repo = repo_or_404(owner, name)
            if repo is None or number not in repo.pulls:
                return _error(404, "Not Found")
            return pull_json(base(request), repo, repo.pulls[number], state.pull_files(repo.full_name, number))

    @r.get("/repos/{owner}/{name}/pulls/{number}/files")
    def pull_files(owner: str, name: str, number: int, request: Request, per_page: int = 30, page: int = 1):
        with state.lock:
            repo = repo_or_404(owner, name)
            if repo is None or number not in repo.pulls:
                return _error(404, "Not Found")
            ref = repo.branches[repo.pulls[number]["head_ref"]]
            files = state.pull_files(repo.full_name, number)
            per_page = max(1, min(per_page, 100))
            chunk = files[(page - 1) * per_page: page * per_page]
            return [diff_entry_json(base(request), repo, f, ref) for f in chunk]

    @r.get("/repos/{owner}/{name}/contents/{path:path}")
    def get_contents(owner: str, name: str, path: str, request: Request, ref: str | None = None):
        with state.lock:
            repo = repo_or_404(owner, name)
            if repo is None:
                return _error(404, "Not Found")
            ref = ref or repo.default_branch
            sha = repo.branches.get(ref, ref)
            tree = repo.commits.get(sha)
            if tree is None:
                return _error(404, f"No commit found for the ref {ref}")
            if path in tree:
                return content_json(base(request), repo, path, ref, tree[path])
            prefix = path.rstrip("/") + "/"
            children = sorted({p[len(prefix):].split("/")[0] for p in tree if p.startswith(prefix)})
            if not children:
                return _error(404, "Not Found")
            return [{"type": "file" if f"{prefix}{c}" in tree else "dir", "name": c, "path": f"{prefix}{c}",
                     "sha": _sha(prefix, c), "size": len(tree.get(f"{prefix}{c}", b"")), "url": f"{base(request)}/x",
                     "git_url": None, "html_url": None, "download_url": None,
                     "_links": {"self": f"{base(request)}/x", "git": None, "html": None}} for c in children]

    @r.get("/repos/{owner}/{name}/git/blobs/{sha}")
    def get_blob(owner: str, name: str, sha: str, request: Request):
        with state.lock:
            repo = repo_or_404(owner, name)
            data = None
            for tree in (repo.commits.values() if repo else ()):
                data = next((b for b in tree.values() if blob_sha(b) == sha), None)
                if data is not None:
                    break
            if repo is None or data is None:
                return _error(404, "Not Found")
            return {"sha": sha, "node_id": f"B_{sha[:8]}", "size": len(data), "encoding": "base64",
                    "url": f"{base(request)}/repos/{repo.full_name}/git/blobs/{sha}",
                    "content": base64.b64encode(data).decode()}

    @r.get("/repos/{owner}/{name}/issues/{number}/comments")
    def list_comments(owner: str, name: str, number: int, request: Request, per_page: int = 30, page: int = 1):
        with state.lock:
            repo = repo_or_404(owner, name)
            if repo is None:
                return _error(404, "Not Found")
            items = [comment_json(base(request), repo, c) for c in repo.comments.values() if c["issue_number"] == number]
            per_page = max(1, min(per_page, 100))
            return items[(page - 1) * per_page: page * per_page]

    @r.post("/repos/{owner}/{name}/issues/{number}/comments", status_code=201)
    async def create_comment(owner: str, name: str, number: int, request: Request):
        data = await json_body(request)
        if not isinstance(data, dict) or not isinstance(data.get("body"), str):
            return _error(422, "Invalid request: body is required")
        if len(data["body"]) > 65536:
            return _error(422, "Body is too long (maximum is 65536 characters)")
        with state.lock:
            repo = repo_or_404(owner, name)
            if repo is None or (number not in repo.pulls):
                return _error(404, "Not Found")
            cid, now = state.next_id(), _now_iso()
            repo.comments[cid] = {"id": cid, "issue_number": number, "body": data["body"], "author": state.bot_login,
                                  "author_type": "Bot", "created_at": now, "updated_at": now, "edits": 0}
            return JSONResponse(comment_json(base(request), repo, repo.comments[cid]), status_code=201)

    @r.get("/repos/{owner}/{name}/issues/comments/{comment_id}")
    def get_comment(owner: str, name: str, comment_id: int, request: Request):
        with state.lock:
            repo = repo_or_404(owner, name)
            if repo is None or comment_id not in repo.comments:
                return _error(404, "Not Found")
            return comment_json(base(request), repo, repo.comments[comment_id])

    @r.patch("/repos/{owner}/{name}/issues/comments/{comment_id}")
    async def edit_comment(owner: str, name: str, comment_id: int, request: Request):
        data = await json_body(request)
        if not isinstance(data, dict) or not isinstance(data.get("body"), str):
            return _error(422, "Invalid request: body is required")
        with state.lock:
            repo = repo_or_404(owner, name)
            if repo is None or comment_id not in repo.comments:
                return _error(404, "Not Found")
            comment = repo.comments[comment_id]
            if comment["author"] != state.bot_login:
                return _error(403, "Resource not accessible by integration")
            comment.update(body=data["body"], updated_at=_now_iso(), edits=comment.get("edits", 0) + 1)
            return comment_json(base(request), repo, comment)

    @r.post("/repos/{owner}/{name}/issues/comments/{comment_id}/reactions", status_code=201)
    async def add_reaction(owner: str, name: str, comment_id: int, request: Request):
        data = await json_body(request)
        allowed = {"+1", "-1", "laugh", "confused", "heart", "hooray", "rocket", "eyes"}
        if not isinstance(data, dict) or data.get("content") not in allowed:
            return _error(422, "Invalid request: content must be a reaction")
        with state.lock:
            repo = repo_or_404(owner, name)
            if repo is None or comment_id not in repo.comments:
                return _error(404, "Not Found")
            reactions = repo.reactions.setdefault(comment_id, [])
            for existing in reactions:  # GitHub answers 200 with the existing reaction
                if existing["content"] == data["content"]:
                    return JSONResponse(existing, status_code=200)
            reaction = {"id": state.next_id(), "node_id": "RE_x", "content": data["content"],
                        "user": user_json(base(request), state.bot_login, "Bot"), "created_at": _now_iso()}
            reactions.append(reaction)
            return JSONResponse(reaction, status_code=201)

    @r.post("/repos/{owner}/{name}/issues/{number}/labels")
    async def add_labels(owner: str, name: str, number: int, request: Request):
        data = await json_body(request)
        labels = data.get("labels") if isinstance(data, dict) else data
        if not isinstance(labels, list) or not all(isinstance(x, str) for x in labels):
            return _error(422, "Invalid request: labels must be a list of strings")
        with state.lock:
            repo = repo_or_404(owner, name)
            if repo is None or number not in repo.pulls:
                return _error(404, "Not Found")
            current = repo.labels.setdefault(number, [])
            current.extend(x for x in labels if x not in current)
            return [{"id": i + 1, "node_id": f"L_{i}", "url": f"{base(request)}/repos/{repo.full_name}/labels/{x}",
                     "name": x, "description": None, "color": "ededed", "default": False}
                    for i, x in enumerate(current)]

    def _apply_output(run: dict[str, Any], output: Any) -> str | None:
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

    def _apply_status(run: dict[str, Any], data: dict[str, Any]) -> str | None:
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
            run.update(conclusion=conclusion, completed_at=_now_iso())
        if data.get("details_url"):
            run["details_url"] = data["details_url"]
        return None

    @r.post("/repos/{owner}/{name}/check-runs", status_code=201)
    async def create_check_run(owner: str, name: str, request: Request):
        data = await json_body(request)
        if not isinstance(data, dict) or not isinstance(data.get("name"), str) or not isinstance(data.get("head_sha"), str):
            return _error(422, "Invalid request: name and head_sha are required")
        with state.lock:
            repo = repo_or_404(owner, name)
            if repo is None:
                return _error(404, "Not Found")
            run = {"id": state.next_id(), "name": data["name"], "head_sha": data["head_sha"], "status": "queued",
                   "conclusion": None, "started_at": _now_iso(), "completed_at": None,
                   "external_id": data.get("external_id", ""), "details_url": data.get("details_url", ""),
                   "title": None, "summary": None, "text": None, "annotations": [], "suite_id": state.next_id(),
                   "requests": 1}
            problem = _apply_status(run, data) or _apply_output(run, data.get("output"))
            if problem:
                return _error(422, problem)
            repo.check_runs[run["id"]] = run
            return JSONResponse(check_run_json(base(request), repo, run, state.app_id, state.bot_login), status_code=201)

    @r.patch("/repos/{owner}/{name}/check-runs/{run_id}")
    async def update_check_run(owner: str, name: str, run_id: int, request: Request):
        data = await json_body(request)
        if not isinstance(data, dict):
            return _error(422, "Invalid request")
        with state.lock:
            repo = repo_or_404(owner, name)
            if repo is None or run_id not in repo.check_runs:
                return _error(404, "Not Found")
            run = repo.check_runs[run_id]
            trial = {**run, "annotations": list(run["annotations"])}
            problem = _apply_status(trial, data) or _apply_output(trial, data.get("output"))
            if problem:
                return _error(422, problem)
            trial["requests"] += 1
            run.update(trial)
            return check_run_json(base(request), repo, run, state.app_id, state.bot_login)

    @r.get("/repos/{owner}/{name}/commits/{ref}/check-runs")
    def list_check_runs_for_ref(owner: str, name: str, ref: str, request: Request, check_name: str | None = None,
                                per_page: int = 30, page: int = 1):
        with state.lock:
            repo = repo_or_404(owner, name)
            if repo is None:
                return _error(404, "Not Found")
            sha = repo.branches.get(ref, ref)
            runs = [c for c in repo.check_runs.values()
                    if c["head_sha"] == sha and (check_name is None or c["name"] == check_name)]
            runs.sort(key=lambda c: -c["id"])
            per_page = max(1, min(per_page, 100))
            chunk = runs[(page - 1) * per_page: page * per_page]
            return {"total_count": len(runs), "check_runs": [
                check_run_json(base(request), repo, c, state.app_id, state.bot_login) for c in chunk]}

    @r.get("/repos/{owner}/{name}/check-runs/{run_id}")
    def get_check_run(owner: str, name: str, run_id: int, request: Request):
        with state.lock:
            repo = repo_or_404(owner, name)
            if repo is None or run_id not in repo.check_runs:
                return _error(404, "Not Found")
            return check_run_json(base(request), repo, repo.check_runs[run_id], state.app_id, state.bot_login)

    @r.get("/repos/{owner}/{name}/collaborators/{login}/permission")
    def permission(owner: str, name: str, login: str, request: Request):
        with state.lock:
            repo = repo_or_404(owner, name)
            if repo is None:
                return _error(404, "Not Found")
            role = repo.collaborators.get(login)
        if role is None:
            return _error(404, f"{login} is not a user")  # GitHub: 404 for non-collaborators
        legacy = {"maintain": "write", "triage": "read"}.get(role, role)
        user = {**user_json(base(request), login), "role_name": role, "permissions": {
            "admin": role == "admin", "maintain": role in ("admin", "maintain"),
            "push": role in ("admin", "maintain", "write"), "triage": role != "read", "pull": True}}
        return {"permission": legacy, "role_name": role, "user": user}

    @r.get("/orgs/{org}/teams/{slug}/memberships/{login}")
    def team_membership(org: str, slug: str, login: str, request: Request):
        with state.lock:
            member = login in state.teams.get((org, slug), set())
        if not member:
            return _error(404, "Not Found")
        return {"url": f"{base(request)}/orgs/{org}/teams/{slug}/memberships/{login}", "role": "member",
                "state": "active"}

    @r.post("/repos/{owner}/{name}/actions/workflows/{workflow}/dispatches", status_code=204)
    async def dispatch(owner: str, name: str, workflow: str, request: Request):
        data = await json_body(request)
        if not isinstance(data, dict) or not isinstance(data.get("ref"), str):
            return _error(422, "Invalid request: ref is required")
        with state.lock:
            repo = repo_or_404(owner, name)
            if repo is None:
                return _error(404, "Not Found")
            repo.dispatches.append({"workflow": workflow, "ref": data["ref"], "inputs": data.get("inputs") or {}})
        return Response(status_code=204)

    @r.post("/repos/{owner}/{name}/actions/runs/{run_id}/cancel", status_code=202)
    def cancel_run(owner: str, name: str, run_id: int):
        with state.lock:
            repo = repo_or_404(owner, name)
            if repo is None:
                return _error(404, "Not Found")
            repo.cancelled_runs.append(run_id)
        return {}

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


def new_token() -> str:
    return "ghs_" + secrets.token_urlsafe(27)
