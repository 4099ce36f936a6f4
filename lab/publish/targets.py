"""Where releases go: a Hugging Face Hub model repository, or a plain directory (any fsspec path).

Both answer the same four questions for the publisher: what is there now (head, files, the last
release record, tags), apply one commit atomically, tag it, and give a URL. I/O lives here only.
"""

from __future__ import annotations

import json
import tempfile
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Protocol

from lab.publish.operations import Operation, to_hf_operations
from lab.publish.release import RECORD_FILE

RELEASES_DIR = "releases"  # DirectoryTarget: one folder per tag, the Hub repo's layout inside
LATEST_FILE = "LATEST"  # DirectoryTarget: the tag `main` points at
BRANCH = "main"


@dataclass
class TargetState:
    head: str | None  # commit the branch points at now
    files: list[str]  # paths at head
    record: dict[str, Any] | None  # release.json at head
    tags: dict[str, str] = field(default_factory=dict)  # tag -> commit


class Target(Protocol):
    def state(self) -> TargetState: ...
    def commit(self, operations: list[Operation], message: str, description: str, head: str | None) -> str: ...
    def tag(self, tag: str, commit: str, message: str) -> None: ...
    def url(self, tag: str) -> str: ...
    def name(self) -> str: ...


@dataclass
class HubTarget:
    """A model repository on the Hub (or a private mirror), through an injected `HfApi(endpoint=, token=)`."""

    repo_id: str
    api: Any  # huggingface_hub.HfApi; typed loosely so importing lab.publish stays light
    private: bool = False
    repo_type: str = "model"  # or "dataset" (the release's data)

    def name(self) -> str:
        return self.repo_id

    def state(self) -> TargetState:
        from huggingface_hub.errors import EntryNotFoundError
        from huggingface_hub.hf_api import RepoFile

        kind = self.repo_type
        self.api.create_repo(self.repo_id, private=self.private, exist_ok=True, repo_type=kind)
        refs = self.api.list_repo_refs(self.repo_id, repo_type=kind)
        head = next((b.target_commit for b in refs.branches if b.name == BRANCH), None)
        tags = {t.name: t.target_commit for t in refs.tags}
        if head is None:
            return TargetState(None, [], None, tags)
        files = [f.path for f in self.api.list_repo_tree(self.repo_id, revision=head, recursive=True, repo_type=kind)
                 if isinstance(f, RepoFile)]
        record = None
        if RECORD_FILE in files:
            with tempfile.TemporaryDirectory() as tmp:
                try:
                    path = self.api.hf_hub_download(self.repo_id, RECORD_FILE, revision=head, cache_dir=tmp,
                                                    repo_type=kind)
                    record = json.loads(Path(path).read_text())
                except (EntryNotFoundError, ValueError):
                    record = None
        return TargetState(head, files, record, tags)

    def commit(self, operations: list[Operation], message: str, description: str, head: str | None) -> str:
        info = self.api.create_commit(self.repo_id, to_hf_operations(operations), commit_message=message,
                                      commit_description=description, parent_commit=head, repo_type=self.repo_type)
        return str(info.oid)

    def tag(self, tag: str, commit: str, message: str) -> None:
        self.api.create_tag(self.repo_id, tag=tag, revision=commit, tag_message=message, repo_type=self.repo_type)

    def url(self, tag: str) -> str:
        prefix = "datasets/" if self.repo_type == "dataset" else ""
        return f"{self.api.endpoint.rstrip('/')}/{prefix}{self.repo_id}/tree/{tag}"


@dataclass
class DirectoryTarget:
    """Air-gapped releases: `path/releases/<tag>/` holds what the Hub repo would, `path/LATEST` names main.

    A release is written to a staging folder and renamed into place, so a failure never leaves half
    a release; LATEST changes last. Any fsspec URL works (local paths need nothing extra).
    """

    path: str | Path
    _tags: dict[str, str] = field(default_factory=dict, init=False, repr=False)

    def _fs(self) -> tuple[Any, str]:
        from fsspec.core import url_to_fs

        fs, root = url_to_fs(str(self.path))
        return fs, root.rstrip("/")

    def name(self) -> str:
        return str(self.path)

    def state(self) -> TargetState:
        fs, root = self._fs()
        fs.makedirs(f"{root}/{RELEASES_DIR}", exist_ok=True)
        tags: dict[str, str] = {}
        for entry in fs.ls(f"{root}/{RELEASES_DIR}", detail=False):
            tag = entry.rstrip("/").rsplit("/", 1)[-1]
            if not tag.startswith(".") and fs.exists(f"{entry}/{RECORD_FILE}"):
                tags[tag] = tag
        self._tags = tags
        if not fs.exists(f"{root}/{LATEST_FILE}"):
            return TargetState(None, [], None, tags)
        head = fs.cat_file(f"{root}/{LATEST_FILE}").decode().strip()
        base = f"{root}/{RELEASES_DIR}/{head}"
        files = [p[len(base) + 1:] for p in fs.find(base)]
        record = json.loads(fs.cat_file(f"{base}/{RECORD_FILE}")) if RECORD_FILE in files else None
        return TargetState(head, files, record, tags)

    def commit(self, operations: list[Operation], message: str, description: str, head: str | None) -> str:
        """Write the release's files (deletions are implied: each release folder is complete)."""
        fs, root = self._fs()
        record = next((op for op in operations if op.path == RECORD_FILE and op.kind == "add"), None)
        if record is None:
            raise ValueError("a release commit must carry release.json")
        tag = str(json.loads(_read(record.source))["tag"])
        staging = f"{root}/{RELEASES_DIR}/.staging-{tag}"
        if fs.exists(staging):
            fs.rm(staging, recursive=True)
        try:
            for op in operations:
                if op.kind != "add":
                    continue
                parent = f"{staging}/{op.path}".rsplit("/", 1)[0]
                fs.makedirs(parent, exist_ok=True)
                if isinstance(op.source, Path):
                    fs.put_file(str(op.source), f"{staging}/{op.path}")
                else:
                    fs.pipe_file(f"{staging}/{op.path}", _read(op.source))
            final = f"{root}/{RELEASES_DIR}/{tag}"
            if fs.exists(final):
                fs.rm(final, recursive=True)
            fs.mv(staging, final, recursive=True)
        except BaseException:
            if fs.exists(staging):
                fs.rm(staging, recursive=True)
            raise
        fs.pipe_file(f"{root}/.{LATEST_FILE}.tmp", tag.encode() + b"\n")
        fs.mv(f"{root}/.{LATEST_FILE}.tmp", f"{root}/{LATEST_FILE}")
        return tag  # a directory's "commit" is its release folder

    def tag(self, tag: str, commit: str, message: str) -> None:
        """Tags are the release folders themselves: nothing more to write."""
        self._tags[tag] = commit

    def url(self, tag: str) -> str:
        return f"{str(self.path).rstrip('/')}/{RELEASES_DIR}/{tag}"


def _read(source: Path | bytes | None) -> bytes:
    if isinstance(source, bytes):
        return source
    if source is None:
        return b""
    return Path(source).read_bytes()
