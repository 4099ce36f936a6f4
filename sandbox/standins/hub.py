"""A local stand-in of the Hugging Face Hub's HTTP API, enough for huggingface_hub to publish and pull.

It keeps model and dataset repositories, and collections of them, in memory (`/api/models/...` and `/api/datasets/...`; a dataset is
kept under the key `datasets/<id>`, see `repo_key`): every commit is a full snapshot of the files, refs are
`main` (and other branches) plus tags. It speaks the routes huggingface_hub really calls:
repo creation, preupload (it answers `regular` for every file, so content travels inline in the
NDJSON commit and no Xet/LFS token is needed), commit, tag, refs, revision info, tree, whoami,
YAML validation and `resolve` (HEAD and GET, with ETag and X-Repo-Commit). Weights (LFS_SUFFIXES)
are described as the Hub describes LFS files: `lfs` {oid: sha256, size} in the tree, and
X-Linked-Etag / X-Linked-Size on `resolve`. Fault injection fails chosen commits *after* reading
the whole body, like a storage error halfway through an upload, and `corrupt` serves other bytes
for a file while its metadata still describes the real one, like damaged storage or a bad mirror.
Standard library only, so the demo and other engineers' tests can run it without extras.
"""

from __future__ import annotations

import base64
import hashlib
import json
import re
import threading
from dataclasses import dataclass, field
from datetime import UTC, datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs, unquote, urlsplit

DEFAULT_BRANCH = "main"
# Bytes accepted in one request (HubStandIn(max_body=...) to change). Files travel inline, base64, in the
# commit (no LFS), so one commit of a real release must fit: the 135M student's -GGUF twin (f16, Q4_K_M,
# Q5_K_M, Q8_0) is about 0.8 GB of body, its fp32 safetensors about 0.72 GB. The stand-in keeps everything in
# memory and holds about three times a body while it decodes one: 2 GiB bounds that at about 6 GiB.
MAX_BODY = 2 * 1024**3
USER = "arborist-bot"
LFS_SUFFIXES = (".safetensors", ".gguf", ".bin", ".pt", ".pth", ".onnx")  # the Hub's default .gitattributes
GITATTRIBUTES = "".join(f"*{suffix} filter=lfs diff=lfs merge=lfs -text\n" for suffix in LFS_SUFFIXES).encode()


def git_blob_oid(data: bytes) -> str:
    """The git blob id the Hub reports as `oid` for regular files."""
    return hashlib.sha1(b"blob %d\0" % len(data) + data).hexdigest()


def is_lfs(path: str) -> bool:
    return path.endswith(LFS_SUFFIXES)


def lfs_pointer(data: bytes) -> bytes:
    """The git-lfs pointer file that git stores in place of an LFS file."""
    return (f"version https://git-lfs.github.com/spec/v1\noid sha256:{hashlib.sha256(data).hexdigest()}\n"
            f"size {len(data)}\n").encode()


def tree_entry(path: str, data: bytes) -> dict[str, Any]:
    """A file as the Hub's tree API lists it: git oid and size, plus sha256 and size under `lfs` for LFS files."""
    if not is_lfs(path):
        return {"type": "file", "oid": git_blob_oid(data), "size": len(data), "path": path}
    pointer = lfs_pointer(data)
    return {"type": "file", "oid": git_blob_oid(pointer), "size": len(data), "path": path,
            "lfs": {"oid": hashlib.sha256(data).hexdigest(), "size": len(data), "pointerSize": len(pointer)}}


@dataclass
class Commit:
    oid: str
    parent: str | None
    title: str
    description: str
    files: dict[str, bytes]
    date: str


@dataclass
class Repo:
    repo_id: str
    private: bool
    commits: dict[str, Commit] = field(default_factory=dict)
    branches: dict[str, str] = field(default_factory=dict)
    tags: dict[str, str] = field(default_factory=dict)

    def resolve(self, rev: str) -> Commit | None:
        oid = self.branches.get(rev) or self.tags.get(rev) or (rev if rev in self.commits else None)
        return self.commits.get(oid) if oid else None


@dataclass
class HubState:
    """Everything the server knows. Tests read it directly; the server changes it under `lock`."""

    token: str | None = None  # when set, writes (and private reads) need `Authorization: Bearer <token>`
    repos: dict[str, Repo] = field(default_factory=dict)
    fail_commits: set[int] = field(default_factory=set)  # 1-based numbers of commit requests to fail
    commit_requests: int = 0
    requests: list[tuple[str, str]] = field(default_factory=list)  # (method, path), never headers
    served: dict[tuple[str, str], bytes] = field(default_factory=dict)  # (repo, path) -> bytes sent instead
    collections: dict[str, dict[str, Any]] = field(default_factory=dict)  # slug -> collection, as the API answers
    max_body: int = MAX_BODY  # bytes accepted in one request; larger ones get a 413 unread
    lock: threading.Lock = field(default_factory=threading.Lock)

    def new_commit(self, repo: Repo, parent: str | None, title: str, description: str,
                   files: dict[str, bytes]) -> Commit:
        seed = json.dumps([repo.repo_id, parent, title, len(repo.commits), sorted(files)]).encode()
        oid = hashlib.sha1(seed + b"".join(files[p] for p in sorted(files))).hexdigest()
        commit = Commit(oid, parent, title, description, files,
                        datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%S.000Z"))
        repo.commits[oid] = commit
        return commit


class HubError(Exception):
    def __init__(self, status: int, message: str, code: str | None = None, **extra: Any):
        super().__init__(message)
        self.status, self.message, self.code, self.extra = status, message, code, extra


KIND = r"(?P<kind>models|datasets)"  # model and dataset repositories answer the same routes
ROUTES: list[tuple[str, str, str]] = [
    ("GET", r"/api/whoami-v2", "whoami"),
    ("POST", r"/api/repos/create", "create_repo"),
    ("POST", r"/api/validate-yaml", "validate_yaml"),
    ("POST", rf"/api/{KIND}/(?P<repo>[^/]+/[^/]+)/preupload/(?P<rev>[^/]+)", "preupload"),
    ("POST", rf"/api/{KIND}/(?P<repo>[^/]+/[^/]+)/commit/(?P<rev>[^/]+)", "create_commit"),
    ("POST", rf"/api/{KIND}/(?P<repo>[^/]+/[^/]+)/tag/(?P<rev>[^/]+)", "tag"),
    ("GET", rf"/api/{KIND}/(?P<repo>[^/]+/[^/]+)/refs", "refs"),
    ("GET", rf"/api/{KIND}/(?P<repo>[^/]+/[^/]+)/revision/(?P<rev>[^/]+)", "info"),
    ("GET", rf"/api/{KIND}/(?P<repo>[^/]+/[^/]+)", "info"),
    ("GET", rf"/api/{KIND}/(?P<repo>[^/]+/[^/]+)/tree/(?P<rev>[^/]+)(?:/(?P<path>.*))?", "tree"),
    ("GET", rf"/api/{KIND}/(?P<repo>[^/]+/[^/]+)/commits/(?P<rev>[^/]+)", "commits"),
    ("POST", r"/api/collections", "create_collection"),
    ("GET", r"/api/collections", "list_collections"),
    ("POST", r"/api/collections/(?P<slug>[^/]+/[^/]+)/items", "add_collection_item"),
    ("PATCH", r"/api/collections/(?P<slug>[^/]+/[^/]+)/items/(?P<item>[^/]+)", "update_collection_item"),
    ("GET", r"/api/collections/(?P<slug>[^/]+/[^/]+)", "get_collection"),
    ("HEAD", r"/(?:(?P<kind>datasets)/)?(?P<repo>[^/]+/[^/]+)/resolve/(?P<rev>[^/]+)/(?P<path>.+)", "resolve"),
    ("GET", r"/(?:(?P<kind>datasets)/)?(?P<repo>[^/]+/[^/]+)/resolve/(?P<rev>[^/]+)/(?P<path>.+)", "resolve"),
]


def repo_key(repo_id: str, repo_type: str = "model") -> str:
    """Where HubState.repos keeps a repository: its id for a model, `datasets/<id>` for a dataset."""
    return f"datasets/{repo_id}" if repo_type in ("dataset", "datasets") else repo_id


COMPILED = [(method, re.compile(pattern + r"$"), name) for method, pattern, name in ROUTES]


class _Handler(BaseHTTPRequestHandler):
    server_version = "HubStandIn/1"
    protocol_version = "HTTP/1.1"
    state: HubState  # set on the subclass made per server
    base_url: str

    def log_message(self, format: str, *args: Any) -> None:  # noqa: A002 - quiet by default
        pass

    def do_GET(self) -> None:
        self._dispatch("GET")

    def do_HEAD(self) -> None:
        self._dispatch("HEAD")

    def do_POST(self) -> None:
        self._dispatch("POST")

    def do_PATCH(self) -> None:
        self._dispatch("PATCH")

    # --- plumbing -------------------------------------------------------------------------
    def _dispatch(self, method: str) -> None:
        url = urlsplit(self.path)
        try:
            body = self._read_body()
        except HubError as exc:
            self._send_json({"error": exc.message}, exc.status)
            return
        with self.state.lock:
            self.state.requests.append((method, url.path))
        for route_method, pattern, name in COMPILED:
            match = pattern.match(url.path)
            if route_method == method and match:
                params = {k: unquote(v) for k, v in match.groupdict().items() if v is not None}
                if "repo" in params:
                    params["repo"] = repo_key(params["repo"], params.pop("kind", "models"))
                try:
                    with self.state.lock:
                        getattr(self, f"_{name}")(method, params, parse_qs(url.query), body)
                except HubError as exc:
                    self._send_json({"error": exc.message, **exc.extra}, exc.status,
                                    {"X-Error-Code": exc.code or "", "X-Error-Message": exc.message})
                except (ValueError, KeyError, TypeError) as exc:  # malformed JSON/NDJSON or missing fields
                    self._send_json({"error": f"bad request: {type(exc).__name__}"}, 400)
                return
        self._send_json({"error": f"no route for {method} {url.path}"}, 404)

    def _read_body(self) -> bytes:
        length = int(self.headers.get("Content-Length") or 0)
        if length > self.state.max_body:
            self.close_connection = True  # the body is left unread: this connection cannot carry another request
            raise HubError(413, f"request too large: {length} bytes, the stand-in takes at most {self.state.max_body} "
                                "in one request (HubStandIn(max_body=...))")
        return self.rfile.read(length) if length else b""

    def _send(self, status: int, body: bytes, headers: dict[str, str], head: bool = False) -> None:
        self.send_response(status)
        for key, value in headers.items():
            if value:
                self.send_header(key, value)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        if not head:
            self.wfile.write(body)

    def _send_json(self, payload: Any, status: int = 200, headers: dict[str, str] | None = None) -> None:
        self._send(status, json.dumps(payload).encode(), {"Content-Type": "application/json", **(headers or {})})

    def _authorized(self) -> bool:
        expected = self.state.token
        return expected is None or self.headers.get("Authorization") == f"Bearer {expected}"

    def _require_write(self) -> None:
        if not self._authorized():
            raise HubError(401, "Invalid credentials in Authorization header")

    def _repo(self, repo_id: str) -> Repo:
        repo = self.state.repos.get(repo_id)
        if repo is None or (repo.private and not self._authorized()):
            raise HubError(404, "Repository not found", "RepoNotFound")
        return repo

    def _commit(self, repo: Repo, rev: str) -> Commit:
        commit = repo.resolve(rev)
        if commit is None:
            raise HubError(404, f"Invalid rev id: {rev}", "RevisionNotFound")
        return commit

    # --- routes ---------------------------------------------------------------------------
    def _whoami(self, method: str, params: dict, query: dict, body: bytes) -> None:
        if self.state.token is not None and not self._authorized():
            raise HubError(401, "Invalid credentials in Authorization header")
        self._send_json({"type": "user", "name": USER, "orgs": [], "auth": {"type": "access_token"}})

    def _create_repo(self, method: str, params: dict, query: dict, body: bytes) -> None:
        self._require_write()
        payload = json.loads(body or b"{}")
        name, org = payload.get("name"), payload.get("organization") or USER
        if not name or not re.fullmatch(r"[\w.-]+", name) or not re.fullmatch(r"[\w.-]+", org):
            raise HubError(400, "invalid repository name")
        repo_id = f"{org}/{name}"
        kind = payload.get("type") or "model"
        if kind not in ("model", "dataset"):
            raise HubError(400, f"the stand-in keeps model and dataset repositories, not {kind!r}")
        key = repo_key(repo_id, kind)
        url = f"{self.base_url}/{'datasets/' if kind == 'dataset' else ''}{repo_id}"
        if key in self.state.repos:
            raise HubError(409, f"You already created this {kind} repo", "RepoExists", url=url)
        repo = Repo(repo_id, private=payload.get("private") is True or payload.get("visibility") == "private")
        first = self.state.new_commit(repo, None, "initial commit", "", {".gitattributes": GITATTRIBUTES})
        repo.branches[DEFAULT_BRANCH] = first.oid
        self.state.repos[key] = repo
        self._send_json({"url": url, "name": repo_id, "id": repo_id})

    def _validate_yaml(self, method: str, params: dict, query: dict, body: bytes) -> None:
        self._send_json({"errors": [], "warnings": []})

    def _preupload(self, method: str, params: dict, query: dict, body: bytes) -> None:
        self._require_write()
        repo = self._repo(params["repo"])
        current = repo.resolve(params["rev"])
        files = json.loads(body or b"{}").get("files", [])
        answer = []
        for item in files:
            existing = current.files.get(item["path"]) if current else None
            answer.append({"path": item["path"], "uploadMode": "regular", "shouldIgnore": False,
                           "oid": git_blob_oid(existing) if existing is not None else None})
        self._send_json({"files": answer, "commitOid": current.oid if current else None})

    def _create_commit(self, method: str, params: dict, query: dict, body: bytes) -> None:
        self._require_write()
        repo = self._repo(params["repo"])
        branch = params["rev"]
        self.state.commit_requests += 1
        if self.state.commit_requests in self.state.fail_commits:
            raise HubError(500, "Internal Error - simulated storage failure during upload")
        lines = [json.loads(line) for line in body.splitlines() if line.strip()]
        if not lines or lines[0].get("key") != "header":
            raise HubError(400, "the first NDJSON line must be the commit header")
        header = lines[0]["value"]
        head = repo.branches.get(branch)
        if head is None:
            raise HubError(404, f"Invalid rev id: {branch}", "RevisionNotFound")
        if header.get("parentCommit") and header["parentCommit"] != head:
            raise HubError(412, "A commit has happened since the parent commit. Please pull and retry.")
        files = dict(repo.commits[head].files)
        for line in lines[1:]:
            key, value = line.get("key"), line.get("value") or {}
            path = value.get("path", "")
            if not path or path.startswith("/") or ".." in path.split("/"):
                raise HubError(400, f"invalid path {path!r}")
            if key == "file":
                files[path] = base64.b64decode(value["content"]) if value.get("encoding") == "base64" \
                    else value["content"].encode()
            elif key == "deletedFile":
                if path not in files:
                    raise HubError(404, "A file with this name doesn't exist", "EntryNotFound")
                del files[path]
            elif key == "deletedFolder":
                prefix = path.rstrip("/") + "/"
                files = {p: d for p, d in files.items() if not p.startswith(prefix)}
            else:
                raise HubError(400, f"unsupported commit operation {key!r} (the stand-in answers 'regular')")
        commit = self.state.new_commit(repo, head, header.get("summary", ""), header.get("description", ""), files)
        repo.branches[branch] = commit.oid
        self._send_json({"commitUrl": f"{self.base_url}/{repo.repo_id}/commit/{commit.oid}",
                         "commitOid": commit.oid, "success": True})

    def _tag(self, method: str, params: dict, query: dict, body: bytes) -> None:
        self._require_write()
        repo = self._repo(params["repo"])
        commit = self._commit(repo, params["rev"])
        tag = json.loads(body or b"{}").get("tag", "")
        if not re.fullmatch(r"[\w.\-/]+", tag or ""):
            raise HubError(400, "invalid tag name")
        if tag in repo.tags:
            raise HubError(409, f"Tag {tag} already exists")
        repo.tags[tag] = commit.oid
        self._send_json({"success": True})

    def _refs(self, method: str, params: dict, query: dict, body: bytes) -> None:
        repo = self._repo(params["repo"])

        def ref(kind: str, name: str, oid: str) -> dict:
            return {"name": name, "ref": f"refs/{kind}/{name}", "targetCommit": oid}

        self._send_json({
            "branches": [ref("heads", n, o) for n, o in sorted(repo.branches.items())],
            "tags": [ref("tags", n, o) for n, o in sorted(repo.tags.items())],
            "converts": [], "pullRequests": [],
        })

    def _info(self, method: str, params: dict, query: dict, body: bytes) -> None:
        repo = self._repo(params["repo"])
        commit = self._commit(repo, params.get("rev", DEFAULT_BRANCH))
        self._send_json({
            "id": repo.repo_id, "modelId": repo.repo_id, "sha": commit.oid, "private": repo.private,
            "lastModified": commit.date, "tags": [], "downloads": 0, "likes": 0,
            "siblings": [{"rfilename": p} for p in sorted(commit.files)],
        })

    def _tree(self, method: str, params: dict, query: dict, body: bytes) -> None:
        repo = self._repo(params["repo"])
        commit = self._commit(repo, params["rev"])
        prefix = params.get("path", "").strip("/")
        recursive = query.get("recursive", ["false"])[0].lower() in ("1", "true")
        entries: dict[str, dict] = {}
        for path, data in sorted(commit.files.items()):
            if prefix and not path.startswith(prefix + "/"):
                continue
            rest = path[len(prefix) + 1:] if prefix else path
            parts = rest.split("/")
            base = f"{prefix}/" if prefix else ""
            for depth in range(1, len(parts)):
                folder = base + "/".join(parts[:depth])
                if recursive or depth == 1:
                    entries.setdefault(folder, {"type": "directory", "oid": git_blob_oid(folder.encode()),
                                                "size": 0, "path": folder})
            if recursive or len(parts) == 1:
                entries[path] = tree_entry(path, data)
        if prefix and not entries:
            raise HubError(404, f"{prefix} does not exist", "EntryNotFound")
        self._send_json(list(entries.values()))

    def _commits(self, method: str, params: dict, query: dict, body: bytes) -> None:
        repo = self._repo(params["repo"])
        commit: Commit | None = self._commit(repo, params["rev"])
        out = []
        while commit is not None:
            out.append({"id": commit.oid, "title": commit.title, "message": commit.description,
                        "date": commit.date, "authors": [{"user": USER}]})
            commit = repo.commits.get(commit.parent) if commit.parent else None
        self._send_json(out)

    # --- collections -----------------------------------------------------------------------
    def _collection(self, slug: str) -> dict[str, Any]:
        found = self.state.collections.get(slug)
        if found is None or (found["private"] and not self._authorized()):
            raise HubError(404, "Collection not found", "CollectionNotFound")
        return found

    def _touch(self, collection: dict[str, Any]) -> None:
        collection["lastUpdated"] = datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%S.000Z")

    def _create_collection(self, method: str, params: dict, query: dict, body: bytes) -> None:
        self._require_write()
        payload = json.loads(body or b"{}")
        title, owner = str(payload.get("title") or ""), str(payload.get("namespace") or USER)
        if not title.strip() or len(title) > 60 or not re.fullmatch(r"[\w.-]+", owner):
            raise HubError(400, "a collection needs a title of 1-60 characters and a valid namespace")
        for slug, existing in self.state.collections.items():
            if existing["owner"] == owner and existing["title"] == title:
                raise HubError(409, "Collection already exists", "CollectionExists", slug=slug)
        name = re.sub(r"[^a-z0-9]+", "-", title.lower()).strip("-") or "collection"
        slug = f"{owner}/{name}-{hashlib.sha1(f'{owner}/{title}'.encode()).hexdigest()[:24]}"
        collection = {"slug": slug, "title": title, "owner": owner, "items": [], "private": payload.get("private") is True,
                      "theme": "green", "upvotes": 0, "description": payload.get("description"), "position": 0}
        self._touch(collection)
        self.state.collections[slug] = collection
        self._send_json(collection)

    def _list_collections(self, method: str, params: dict, query: dict, body: bytes) -> None:
        owner, item = query.get("owner", [None])[0], query.get("item", [None])[0]
        out = []
        for collection in self.state.collections.values():
            if collection["private"] and not self._authorized():
                continue
            ids = {f"{i['type']}s/{i['id']}" for i in collection["items"]}
            if (owner is None or collection["owner"] == owner) and (item is None or item in ids):
                out.append({k: v for k, v in collection.items() if k != "position"})
        self._send_json(out)

    def _get_collection(self, method: str, params: dict, query: dict, body: bytes) -> None:
        self._send_json(self._collection(params["slug"]))

    def _add_collection_item(self, method: str, params: dict, query: dict, body: bytes) -> None:
        self._require_write()
        collection = self._collection(params["slug"])
        payload = json.loads(body or b"{}")
        item = payload.get("item") or {}
        kind, item_id = item.get("type"), item.get("id")
        if kind not in ("model", "dataset") or not isinstance(item_id, str):
            raise HubError(400, "item must be {id, type: model|dataset}")
        if repo_key(item_id, kind) not in self.state.repos:
            raise HubError(404, f"{kind} {item_id} not found", "RepoNotFound")
        if any(i["id"] == item_id and i["type"] == kind for i in collection["items"]):
            raise HubError(409, "Item already in the collection")
        note = payload.get("note")
        collection["items"].append({"_id": hashlib.sha1(f"{kind}/{item_id}".encode()).hexdigest()[:24],
                                    "id": item_id, "type": kind, "position": len(collection["items"]),
                                    **({"note": {"text": str(note)[:500]}} if note else {})})
        self._touch(collection)
        self._send_json(collection)

    def _update_collection_item(self, method: str, params: dict, query: dict, body: bytes) -> None:
        self._require_write()
        collection = self._collection(params["slug"])
        item = next((i for i in collection["items"] if i["_id"] == params["item"]), None)
        if item is None:
            raise HubError(404, "Item not found")
        payload = json.loads(body or b"{}")
        if "note" in payload:
            item["note"] = {"text": str(payload["note"])[:500]}
        self._touch(collection)
        self._send_json({"success": True})

    def _resolve(self, method: str, params: dict, query: dict, body: bytes) -> None:
        repo = self._repo(params["repo"])
        commit = self._commit(repo, params["rev"])
        data = commit.files.get(params["path"])
        if data is None:
            raise HubError(404, "Entry not found", "EntryNotFound")
        headers = {"ETag": f'"{git_blob_oid(data)}"', "X-Repo-Commit": commit.oid,
                   "Content-Type": "application/octet-stream", "Accept-Ranges": "bytes"}
        if is_lfs(params["path"]):  # the Hub names an LFS file by its sha256 and real size
            sha256 = hashlib.sha256(data).hexdigest()
            headers.update({"ETag": f'"{sha256}"', "X-Linked-Etag": f'"{sha256}"', "X-Linked-Size": str(len(data))})
        data = self.state.served.get((params["repo"], params["path"]), data)
        status, payload = 200, data
        match = re.fullmatch(r"bytes=(\d+)-(\d*)", self.headers.get("Range") or "")
        if match and method == "GET":
            start = int(match.group(1))
            end = int(match.group(2)) if match.group(2) else len(data) - 1
            status, payload = 206, data[start:end + 1]
            headers["Content-Range"] = f"bytes {start}-{end}/{len(data)}"
        self._send(status, payload, headers, head=(method == "HEAD"))


class HubStandIn:
    """Run the stand-in on 127.0.0.1 in a background thread: `with HubStandIn() as hub: hub.url`."""

    def __init__(self, token: str | None = None, port: int = 0, host: str = "127.0.0.1", max_body: int = MAX_BODY):
        self.state = HubState(token=token, max_body=max_body)
        handler: type[_Handler] = type("Handler", (_Handler,), {"state": self.state, "base_url": ""})
        self._server = ThreadingHTTPServer((host, port), handler)
        self._server.daemon_threads = True
        self.url = f"http://{host}:{self._server.server_address[1]}"
        handler.base_url = self.url
        self._thread = threading.Thread(target=self._server.serve_forever, name="hub-standin", daemon=True)

    def start(self) -> HubStandIn:
        self._thread.start()
        return self

    def stop(self) -> None:
        self._server.shutdown()
        self._server.server_close()

    def __enter__(self) -> HubStandIn:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    def fail_commit(self, n: int) -> None:
        """Make the n-th commit request from now on (1 = the next) fail with a 500 after its body is read."""
        with self.state.lock:
            self.state.fail_commits.add(self.state.commit_requests + n)

    def corrupt(self, repo_id: str, path: str, data: bytes | None = None) -> None:
        """Serve `data` (default: the file at main with its middle byte flipped) for `path` at every revision,
        while ETag, sizes and the tree still describe the real file; `heal` undoes it."""
        if data is None:
            real = bytearray(self.files(repo_id)[path])
            real[len(real) // 2] ^= 0xFF
            data = bytes(real)
        with self.state.lock:
            self.state.served[(repo_id, path)] = data

    def heal(self, repo_id: str, path: str) -> None:
        with self.state.lock:
            self.state.served.pop((repo_id, path), None)

    def files(self, repo_id: str, rev: str = DEFAULT_BRANCH, repo_type: str = "model") -> dict[str, bytes]:
        """A copy of the files of `repo_id` (a model, or a dataset) at `rev` (branch, tag or commit)."""
        with self.state.lock:
            commit = self.state.repos[repo_key(repo_id, repo_type)].resolve(rev)
            return dict(commit.files) if commit else {}


def main(argv: list[str] | None = None) -> int:
    """`python -m sandbox.standins.hub --port 8765`: serve until Ctrl-C (token from $HUB_STANDIN_TOKEN, if set)."""
    import argparse
    import os
    import time

    parser = argparse.ArgumentParser(description="a local stand-in of the Hugging Face Hub API")
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=0, help="0 picks a free port")
    args = parser.parse_args(argv)
    hub = HubStandIn(token=os.environ.get("HUB_STANDIN_TOKEN") or None, port=args.port, host=args.host).start()
    print(hub.url, flush=True)
    try:
        while True:
            time.sleep(3600)
    except KeyboardInterrupt:
        hub.stop()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
