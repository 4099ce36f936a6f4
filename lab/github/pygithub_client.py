"""The GitHubClient Protocol over PyGithub: plain dataclasses out, retries and timeouts on every call.

PyGithub's own retry is switched off (it repeats 500s and raises RetryError); this adapter retries
5xx, connection errors and rate limits itself (lab.github.retry), honouring Retry-After and
X-RateLimit-Reset, and records calls, errors and the remaining rate limit in Metrics. Requests go
through PyGithub's Requester with explicit URLs, so no lazy object does hidden I/O.
"""

from __future__ import annotations

import base64
from collections.abc import Callable
from typing import Any, TypeVar
from urllib.parse import quote

from lab.github.errors import CONFLICT, NOT_FOUND, status_of
from lab.github.protocol import (
    CheckConclusion,
    CheckRun,
    CheckRunOutput,
    CheckStatus,
    Comment,
    PullFile,
    PullRequest,
    WorkflowRunRef,
)
from lab.github.retry import RetryPolicy, call_with_retries

T = TypeVar("T")
PER_PAGE = 100
MAX_FILE_BYTES = 10 * 1024 * 1024  # never download more of one PR file; larger ones come back as a marker
MAX_PAGES = 40  # 4,000 items: GitHub itself lists at most 3,000 files per PR


def _output_json(output: CheckRunOutput) -> dict[str, Any]:
    out: dict[str, Any] = {"title": output.title[:1000], "summary": output.summary}
    if output.text:
        out["text"] = output.text
    if output.annotations:
        out["annotations"] = []
        for a in output.annotations:
            item: dict[str, Any] = {"path": a.path, "start_line": a.start_line, "end_line": a.end_line,
                                    "annotation_level": a.level, "message": a.message}
            if a.title:
                item["title"] = a.title
            if a.raw_details:
                item["raw_details"] = a.raw_details
            if a.start_column is not None and a.start_line == a.end_line:
                item["start_column"] = a.start_column
                item["end_column"] = a.end_column if a.end_column is not None else a.start_column
            out["annotations"].append(item)
    return out


def _check_run_body(status: CheckStatus | None, output: CheckRunOutput | None, conclusion: CheckConclusion | None,
                    details_url: str) -> dict[str, Any]:
    """The JSON a check run create or update sends: a conclusion completes the run."""
    body: dict[str, Any] = {}
    if status:
        body["status"] = status
    if conclusion:
        body.update(status="completed", conclusion=conclusion)
    if output is not None:
        body["output"] = _output_json(output)
    if details_url:
        body["details_url"] = details_url
    return body


def _check_run(data: dict[str, Any]) -> CheckRun:
    return CheckRun(id=int(data["id"]), name=str(data["name"]), head_sha=str(data["head_sha"]),
                    status=data["status"], conclusion=data.get("conclusion"),
                    html_url=data.get("html_url") or "", details_url=data.get("details_url") or "")


class PyGithubClient:
    """One installation's GitHubClient. `token` is a callable so a long-lived client stays authorised."""

    def __init__(self, base_url: str, token: Callable[[], str], *, timeout: float = 10.0,
                 policy: RetryPolicy | None = None, metrics: Any = None):
        self.base_url = base_url.rstrip("/")
        self._token_fn, self.timeout = token, timeout
        self.policy = policy or RetryPolicy()
        self.metrics = metrics
        self._token: str | None = None
        self._gh: Any = None

    # ---- plumbing ------------------------------------------------------------------------------
    def _github(self) -> Any:
        from github import Auth, Github

        token = self._token_fn()
        if self._gh is None or token != self._token:
            self._gh = Github(base_url=self.base_url, auth=Auth.Token(token), timeout=int(max(1, self.timeout)),
                              retry=0, per_page=PER_PAGE, seconds_between_requests=0, seconds_between_writes=0,
                              user_agent="arborist-bot")
            self._token = token
        return self._gh

    def _request(self, operation: str, verb: str, path: str, *, params: dict | None = None,
                 body: Any = None, headers: dict | None = None,
                 recover: Callable[[], dict | None] | None = None) -> tuple[dict, Any]:
        """One API call with retries. `recover`, for creating POSTs, runs before each retry: a request
        that timed out or got a 5xx may still have been carried out, and what it made is returned
        instead of making it twice."""
        import requests
        from github import GithubException

        attempts = 0

        def once() -> tuple[dict, Any]:
            nonlocal attempts
            attempts += 1
            if attempts > 1 and recover is not None:
                found = recover()
                if found is not None:
                    return {}, found
            requester = self._github().requester
            try:
                result = requester.requestJsonAndCheck(verb, f"{self.base_url}{path}", parameters=params,
                                                       headers=headers, input=body)
            except GithubException as exc:
                self._count(operation, exc.status)
                raise
            except requests.RequestException:
                self._count(operation, "no_answer")
                raise
            self._count(operation, 200)
            remaining = requester.rate_limiting[0]
            if self.metrics is not None and remaining >= 0:
                self.metrics.rate_limit_remaining(remaining)
            return result

        def classify(exc: BaseException):
            if isinstance(exc, GithubException):
                message = exc.message or (exc.data.get("message", "") if isinstance(exc.data, dict) else "")
                return exc.status, dict(exc.headers or {}), str(message or "")
            if isinstance(exc, requests.RequestException):
                return None, {}, type(exc).__name__
            return None

        def on_retry(reason: str, wait: float) -> None:
            if self.metrics is not None:
                self.metrics.github_retry(reason)

        try:
            return call_with_retries(once, self.policy, classify, on_retry)
        except Exception:
            if self.metrics is not None:
                self.metrics.github_error(operation)
            raise

    def _count(self, operation: str, status: int | str) -> None:
        if self.metrics is not None:
            self.metrics.github_call(operation, status)

    def _get_or(self, absent: Any, operation: str, path: str, params: dict | None = None) -> Any:
        """GET `path`'s JSON; `absent` where GitHub answers 404 (not there, or not visible to the App)."""
        from github import GithubException

        try:
            return self._request(operation, "GET", path, params=params)[1]
        except GithubException as exc:
            if status_of(exc) == NOT_FOUND:
                return absent
            raise

    def _pages(self, operation: str, path: str) -> list[dict]:
        items: list[dict] = []
        for page in range(1, MAX_PAGES + 1):
            _, data = self._request(operation, "GET", path, params={"per_page": PER_PAGE, "page": page})
            if not isinstance(data, list):
                break
            items.extend(data)
            if len(data) < PER_PAGE:
                break
        return items

    @staticmethod
    def _repo(repo: str) -> str:
        owner, _, name = repo.partition("/")
        return f"/repos/{quote(owner, safe='')}/{quote(name, safe='')}"

    # ---- the Protocol ------------------------------------------------------------------------------
    def get_pull(self, repo: str, number: int) -> PullRequest:
        _, d = self._request("get_pull", "GET", f"{self._repo(repo)}/pulls/{int(number)}")
        head_repo = (d["head"].get("repo") or {}).get("full_name", "")
        user = d.get("user") or {}
        return PullRequest(number=d["number"], state=d["state"], head_sha=d["head"]["sha"], head_ref=d["head"]["ref"],
                           base_ref=d["base"]["ref"], base_sha=d["base"]["sha"], author=user.get("login", ""),
                           author_is_bot=user.get("type") == "Bot", merged=bool(d.get("merged")),
                           draft=bool(d.get("draft")), html_url=d.get("html_url") or "", head_repo=head_repo or "")

    def list_pull_files(self, repo: str, number: int) -> list[PullFile]:
        items = self._pages("list_pull_files", f"{self._repo(repo)}/pulls/{int(number)}/files")
        return [PullFile(i["filename"], i["status"], i.get("previous_filename")) for i in items]

    def get_file(self, repo: str, path: str, ref: str) -> bytes | None:
        """Contents API; files over 1 MB via the blob API; over MAX_FILE_BYTES: not downloaded."""
        d = self._get_or(None, "get_file", f"{self._repo(repo)}/contents/{quote(path)}", params={"ref": ref})
        if not isinstance(d, dict) or d.get("type") != "file":
            return None
        if int(d.get("size") or 0) > MAX_FILE_BYTES:
            # A hostile PR may add a huge file: do not fetch it. Bytes of the cap's length + 1 make
            # validation report "file-too-large" without the download.
            return b"\0" * (MAX_FILE_BYTES + 1)
        if d.get("encoding") == "base64" and d.get("content"):
            return base64.b64decode(d["content"])
        _, blob = self._request("get_blob", "GET", f"{self._repo(repo)}/git/blobs/{d['sha']}")  # files over 1 MB
        return base64.b64decode(blob["content"])

    def list_comments(self, repo: str, number: int) -> list[Comment]:
        items = self._pages("list_comments", f"{self._repo(repo)}/issues/{int(number)}/comments")
        return [Comment(i["id"], i.get("body") or "", (i.get("user") or {}).get("login", ""), i.get("html_url", ""))
                for i in items]

    def create_comment(self, repo: str, number: int, body: str) -> Comment:
        def recover() -> dict | None:
            items = self._pages("list_comments", f"{self._repo(repo)}/issues/{int(number)}/comments")
            return next((i for i in reversed(items) if i.get("body") == body), None)

        _, d = self._request("create_comment", "POST", f"{self._repo(repo)}/issues/{int(number)}/comments",
                             body={"body": body}, recover=recover)
        return Comment(d["id"], d.get("body") or "", (d.get("user") or {}).get("login", ""), d.get("html_url", ""))

    def edit_comment(self, repo: str, comment_id: int, body: str) -> Comment:
        _, d = self._request("edit_comment", "PATCH", f"{self._repo(repo)}/issues/comments/{int(comment_id)}",
                             body={"body": body})
        return Comment(d["id"], d.get("body") or "", (d.get("user") or {}).get("login", ""), d.get("html_url", ""))

    def add_reaction(self, repo: str, comment_id: int, content: str) -> None:
        self._request("add_reaction", "POST", f"{self._repo(repo)}/issues/comments/{int(comment_id)}/reactions",
                      body={"content": content})

    def cancel_workflow_run(self, repo: str, run_id: int) -> None:
        from github import GithubException

        try:
            self._request("cancel_workflow_run", "POST", f"{self._repo(repo)}/actions/runs/{int(run_id)}/cancel")
        except GithubException as exc:
            if status_of(exc) != CONFLICT:  # the run already completed, which is what cancel wanted
                raise

    def add_labels(self, repo: str, number: int, labels: list[str]) -> None:
        self._request("add_labels", "POST", f"{self._repo(repo)}/issues/{int(number)}/labels",
                      body={"labels": list(labels)})

    def create_check_run(self, repo: str, name: str, head_sha: str, status: CheckStatus,
                         output: CheckRunOutput | None = None, conclusion: CheckConclusion | None = None,
                         details_url: str = "", external_id: str = "") -> CheckRun:
        body = {"name": name, "head_sha": head_sha, **_check_run_body(status, output, conclusion, details_url)}
        if external_id:
            body["external_id"] = external_id
        def recover() -> dict | None:
            if not external_id:
                return None
            _, found = self._request("list_check_runs", "GET",
                                     f"{self._repo(repo)}/commits/{quote(head_sha, safe='')}/check-runs",
                                     params={"check_name": name, "filter": "all", "per_page": PER_PAGE})
            runs = found.get("check_runs", []) if isinstance(found, dict) else []
            return next((r for r in runs if r.get("external_id") == external_id), None)

        _, d = self._request("create_check_run", "POST", f"{self._repo(repo)}/check-runs", body=body,
                             recover=recover)
        return _check_run(d)

    def update_check_run(self, repo: str, check_run_id: int, status: CheckStatus | None = None,
                         output: CheckRunOutput | None = None, conclusion: CheckConclusion | None = None,
                         details_url: str = "") -> CheckRun:
        body = _check_run_body(status, output, conclusion, details_url)
        _, d = self._request("update_check_run", "PATCH", f"{self._repo(repo)}/check-runs/{int(check_run_id)}",
                             body=body)
        return _check_run(d)

    def get_collaborator_permission(self, repo: str, username: str) -> str:
        d = self._get_or({}, "get_collaborator_permission",
                         f"{self._repo(repo)}/collaborators/{quote(username, safe='')}/permission")
        if d.get("permission") in (None, "none"):
            return "none"
        return str(d.get("role_name") or d["permission"])  # role_name tells maintain/triage apart

    def is_team_member(self, org: str, team_slug: str, username: str) -> bool:
        path = f"/orgs/{quote(org, safe='')}/teams/{quote(team_slug, safe='')}/memberships/{quote(username, safe='')}"
        return bool(self._get_or({}, "is_team_member", path).get("state") == "active")

    def dispatch_workflow(self, repo: str, workflow: str, ref: str, inputs: dict[str, str]) -> WorkflowRunRef:
        self._request("dispatch_workflow", "POST",
                      f"{self._repo(repo)}/actions/workflows/{quote(workflow, safe='')}/dispatches",
                      body={"ref": ref, "inputs": dict(inputs)})
        return WorkflowRunRef(workflow, ref, dict(inputs))
