"""Stand-in routes for pull requests and repository contents: what validation reads from a PR.

The PR, its changed files (paginated, as the adapter pages them), and file contents at a ref, with
the blob API for files too large to inline, as the real contents API does.
"""

from __future__ import annotations

import base64

from fastapi import APIRouter, Request  # module level: FastAPI resolves route annotations from globals

from sandbox.standins.github_shapes import blob_sha, content_json, diff_entry_json, pull_json
from sandbox.standins.github_state import GitHubState, sha1_hex
from sandbox.standins.github_transport import base_url, error_response


def add_pull_routes(r: APIRouter, state: GitHubState) -> None:
    """GET a PR, its files, contents at a ref, and blobs."""

    @r.get("/repos/{owner}/{name}/pulls/{number}")
    def get_pull(owner: str, name: str, number: int, request: Request):
        with state.lock:
            repo = state.find_repo(owner, name)
            if repo is None or number not in repo.pulls:
                return error_response(404, "Not Found")
            return pull_json(base_url(request), repo, repo.pulls[number], state.pull_files(repo.full_name, number))

    @r.get("/repos/{owner}/{name}/pulls/{number}/files")
    def pull_files(owner: str, name: str, number: int, request: Request, per_page: int = 30, page: int = 1):
        with state.lock:
            repo = state.find_repo(owner, name)
            if repo is None or number not in repo.pulls:
                return error_response(404, "Not Found")
            ref = repo.branches[repo.pulls[number]["head_ref"]]
            files = state.pull_files(repo.full_name, number)
            per_page = max(1, min(per_page, 100))
            chunk = files[(page - 1) * per_page: page * per_page]
            return [diff_entry_json(base_url(request), repo, f, ref) for f in chunk]

    @r.get("/repos/{owner}/{name}/contents/{path:path}")
    def get_contents(owner: str, name: str, path: str, request: Request, ref: str | None = None):
        with state.lock:
            repo = state.find_repo(owner, name)
            if repo is None:
                return error_response(404, "Not Found")
            ref = ref or repo.default_branch
            sha = repo.branches.get(ref, ref)
            tree = repo.commits.get(sha)
            if tree is None:
                return error_response(404, f"No commit found for the ref {ref}")
            if path in tree:
                return content_json(base_url(request), repo, path, ref, tree[path])
            prefix, base = path.rstrip("/") + "/", base_url(request)
            children = sorted({p[len(prefix):].split("/")[0] for p in tree if p.startswith(prefix)})
            if not children:
                return error_response(404, "Not Found")
            return [{"type": "file" if f"{prefix}{c}" in tree else "dir", "name": c, "path": f"{prefix}{c}",
                     "sha": sha1_hex(prefix, c), "size": len(tree.get(f"{prefix}{c}", b"")), "url": f"{base}/x",
                     "git_url": None, "html_url": None, "download_url": None,
                     "_links": {"self": f"{base}/x", "git": None, "html": None}} for c in children]

    @r.get("/repos/{owner}/{name}/git/blobs/{sha}")
    def get_blob(owner: str, name: str, sha: str, request: Request):
        with state.lock:
            repo = state.find_repo(owner, name)
            data = None
            for tree in (repo.commits.values() if repo else ()):
                data = next((b for b in tree.values() if blob_sha(b) == sha), None)
                if data is not None:
                    break
            if repo is None or data is None:
                return error_response(404, "Not Found")
            return {"sha": sha, "node_id": f"B_{sha[:8]}", "size": len(data), "encoding": "base64",
                    "url": f"{base_url(request)}/repos/{repo.full_name}/git/blobs/{sha}",
                    "content": base64.b64encode(data).decode()}
