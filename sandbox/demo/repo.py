"""A local taxonomy repository for the demo: a bare "remote" plus a work tree, driven by git.

The worker clones the bare repository (through ARBORIST_GIT_URL_TEMPLATE) exactly as a runner
clones GitHub, so the commits the story makes are the ones the jobs read.
"""

from __future__ import annotations

import os
import shutil
import subprocess
from collections.abc import Mapping
from pathlib import Path

DEFAULT_BRANCH = "main"
GIT_ENV = {
    "GIT_CONFIG_NOSYSTEM": "1",
    "GIT_TERMINAL_PROMPT": "0",
    "GIT_AUTHOR_DATE": "2026-01-01T00:00:00Z",
    "GIT_COMMITTER_DATE": "2026-01-01T00:00:00Z",
}


class TaxonomyRepo:
    """`remote` is the bare repository; `work` is a clone the story commits in."""

    def __init__(self, root: Path, name: str = "taxonomy"):
        self.root = root
        self.remote = root / f"{name}.git"
        self.work = root / name
        self._home = root / ".git-home"  # an empty HOME: the user's git config never leaks in

    def git(self, *args: str, cwd: Path | None = None, author: str = "arborist-demo") -> str:
        env = {**os.environ, **GIT_ENV, "HOME": str(self._home),
               "GIT_AUTHOR_NAME": author, "GIT_AUTHOR_EMAIL": f"{author}@users.noreply.example",
               "GIT_COMMITTER_NAME": author, "GIT_COMMITTER_EMAIL": f"{author}@users.noreply.example"}
        result = subprocess.run(["git", *args], cwd=cwd or self.work, env=env, capture_output=True, text=True)
        if result.returncode != 0:
            raise RuntimeError(f"git {' '.join(args)} failed: {result.stderr.strip()}")
        return result.stdout.strip()

    def create(self, files: dict[str, bytes]) -> str:
        """Make the bare remote and the work tree with one initial commit; return its SHA."""
        if shutil.which("git") is None:
            raise RuntimeError("git is not installed; the demo needs it (apt-get install git)")
        self._home.mkdir(parents=True, exist_ok=True)
        self.root.mkdir(parents=True, exist_ok=True)
        self.git("init", "--quiet", "--bare", f"--initial-branch={DEFAULT_BRANCH}", str(self.remote), cwd=self.root)
        self.git("init", "--quiet", f"--initial-branch={DEFAULT_BRANCH}", str(self.work), cwd=self.root)
        self.git("remote", "add", "origin", str(self.remote))
        self.write(files)
        return self.commit_and_push(DEFAULT_BRANCH, "Seed the taxonomy")

    def write(self, files: Mapping[str, bytes | None]) -> None:
        """Write (or, for None, delete) files in the work tree."""
        for rel, data in files.items():
            path = self.work / rel
            if data is None:
                if path.exists():
                    path.unlink()
                continue
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_bytes(data)

    def commit_and_push(self, branch: str, message: str, author: str = "arborist-demo") -> str:
        self.git("add", "--all")
        self.git("commit", "--quiet", "--allow-empty", "-m", message, author=author)
        self.git("push", "--quiet", "--force", "origin", f"HEAD:refs/heads/{branch}")
        return self.head()

    def branch(self, name: str, start: str = DEFAULT_BRANCH) -> None:
        self.git("checkout", "--quiet", "-B", name, start)

    def merge(self, branch: str, message: str, author: str = "arborist-demo") -> str:
        """Merge `branch` into the default branch with a merge commit, push, and return the SHA."""
        self.git("checkout", "--quiet", DEFAULT_BRANCH)
        self.git("merge", "--quiet", "--no-ff", "-m", message, branch, author=author)
        self.git("push", "--quiet", "origin", DEFAULT_BRANCH)
        return self.head()

    def head(self) -> str:
        return self.git("rev-parse", "HEAD")

    def read(self, rel: str, ref: str) -> bytes | None:
        """A file's exact bytes at `ref`, or None when it is not there."""
        result = subprocess.run(["git", "show", f"{ref}:{rel}"], cwd=self.work, capture_output=True,
                                env={**os.environ, **GIT_ENV, "HOME": str(self._home)})
        return result.stdout if result.returncode == 0 else None

    def changed_files(self, base: str, head: str) -> list[tuple[str, str]]:
        """(status letter, path) of files that differ between two commits."""
        out = self.git("diff", "--name-status", "--no-renames", f"{base}...{head}")
        return [(line.split("\t")[0], line.split("\t")[1]) for line in out.splitlines() if line]
