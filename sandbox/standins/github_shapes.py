"""GitHub's JSON shapes for the stand-in's objects, with URLs that point back at the stand-in.

Pure functions of the state's plain dicts and a base URL: the routes serve them, and the demo builds
its webhook payloads from them, so a payload and an API answer for the same object always agree.
"""

from __future__ import annotations

import base64
from typing import Any

from sandbox.standins.github_state import Repo, now_iso, sha1_hex

INLINE_CONTENT_BYTES = 1024 * 1024  # the contents API inlines files up to 1 MB; larger: blob API
URL_KEYS = ("events", "followers", "following", "gists", "organizations", "received_events", "repos",
            "starred", "subscriptions")


def user_json(base: str, login: str, user_type: str = "User") -> dict[str, Any]:
    uid = int(sha1_hex(login)[:7], 16)
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
        "mirror_url": None, "license": None, "pushed_at": now_iso(), "created_at": now_iso(0),
        "updated_at": now_iso(), "clone_url": f"{base}/{repo.full_name}.git", "git_url": f"{base}/{repo.full_name}.git",
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
        "milestone": None, "active_lock_reason": None, "created_at": pr["created_at"], "updated_at": now_iso(),
        "closed_at": pr.get("closed_at"), "merged_at": pr.get("merged_at"),
        "merge_commit_sha": pr.get("merge_commit_sha"), "assignee": None, "assignees": [],
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
                    "created_at": now_iso(0), "updated_at": now_iso(0),
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
    return sha1_hex(b"blob ", str(len(data)), b"\0", data)


def diff_entry_json(base: str, repo: Repo, f: dict[str, Any], ref: str) -> dict[str, Any]:
    api = f"{base}/repos/{repo.full_name}"
    return {**f, "blob_url": f"{base}/{repo.full_name}/blob/{ref}/{f['filename']}",
            "raw_url": f"{base}/{repo.full_name}/raw/{ref}/{f['filename']}",
            "contents_url": f"{api}/contents/{f['filename']}?ref={ref}"}
