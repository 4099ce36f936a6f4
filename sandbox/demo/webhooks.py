"""Webhook deliveries as GitHub sends them: payloads shaped like the real events, signed, POSTed.

The demo plays GitHub's part towards the bot, so every delivery goes through the real endpoint:
signature check over the raw body, delivery-id dedupe, background dispatch.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import uuid
import zlib
from dataclasses import dataclass
from typing import Any

DELIVERY_TIMEOUT_S = 10.0  # GitHub gives up on a delivery after 10 seconds


def sign(secret: str, body: bytes) -> str:
    """The X-Hub-Signature-256 header value for `body`."""
    return "sha256=" + hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()


@dataclass(frozen=True)
class RepoRef:
    full_name: str
    api_url: str  # base URL of the GitHub stand-in
    installation_id: int
    default_branch: str = "main"

    def payload(self) -> dict[str, Any]:
        owner, name = self.full_name.split("/", 1)
        return {
            "id": zlib.crc32(self.full_name.encode()) % 10**8, "name": name, "full_name": self.full_name,
            "private": False, "owner": _user(owner, "Organization", self.api_url),
            "html_url": f"{self.api_url}/{self.full_name}", "url": f"{self.api_url}/repos/{self.full_name}",
            "default_branch": self.default_branch,
        }


def _user(login: str, kind: str = "User", api_url: str = "") -> dict[str, Any]:
    return {"login": login, "id": zlib.crc32(login.encode()) % 10**8, "type": kind,
            "url": f"{api_url}/users/{login}", "html_url": f"{api_url}/{login}"}


def pull_request_event(repo: RepoRef, action: str, pr: dict[str, Any], sender: str) -> dict[str, Any]:
    """`pull_request` (opened, synchronize, closed) for a PR as the stand-in serves it (GET /pulls/N)."""
    body: dict[str, Any] = {"action": action, "number": pr["number"], "pull_request": pr,
                            "repository": repo.payload(), "sender": _user(sender, api_url=repo.api_url),
                            "installation": {"id": repo.installation_id}}
    if action == "synchronize":
        body["before"], body["after"] = pr.get("_before", ""), pr["head"]["sha"]
    return body


def issue_comment_event(repo: RepoRef, pr: dict[str, Any], comment: dict[str, Any]) -> dict[str, Any]:
    """`issue_comment.created` on a PR, for a comment as the stand-in serves it."""
    issue = {
        "number": pr["number"], "title": pr.get("title", ""), "state": pr.get("state", "open"),
        "user": pr.get("user"), "html_url": pr.get("html_url", ""),
        "pull_request": {"url": pr.get("url", ""), "html_url": pr.get("html_url", "")},
    }
    return {"action": "created", "issue": issue, "comment": comment, "repository": repo.payload(),
            "sender": comment.get("user"), "installation": {"id": repo.installation_id}}


def push_event(repo: RepoRef, before: str, after: str, pusher: str) -> dict[str, Any]:
    """`push` to the default branch (what a merge produces)."""
    return {
        "ref": f"refs/heads/{repo.default_branch}", "before": before, "after": after, "created": False,
        "deleted": False, "forced": False, "repository": repo.payload(),
        "pusher": {"name": pusher, "email": f"{pusher}@users.noreply.example"},
        "sender": _user(pusher, api_url=repo.api_url), "installation": {"id": repo.installation_id},
        "head_commit": {"id": after, "message": "Merge pull request"}, "commits": [],
    }


def deliver(url: str, secret: str, event: str, payload: dict[str, Any]) -> str:
    """POST one signed delivery; return its delivery id. Raises on a non-2xx answer."""
    import httpx

    body = json.dumps(payload).encode()
    delivery = str(uuid.uuid4())
    headers = {
        "Content-Type": "application/json", "User-Agent": "GitHub-Hookshot/arborist-demo",
        "X-GitHub-Event": event, "X-GitHub-Delivery": delivery, "X-Hub-Signature-256": sign(secret, body),
    }
    response = httpx.post(url, content=body, headers=headers, timeout=DELIVERY_TIMEOUT_S)
    if response.status_code // 100 != 2:
        raise RuntimeError(f"the bot answered {response.status_code} to a {event} delivery: {response.text[:300]}")
    return delivery
