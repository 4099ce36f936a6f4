"""Fetch exactly one commit of a taxonomy repository, as data: shallow, no hooks, no submodules, no LFS.

Nothing fetched here is ever executed. Git itself is hardened for the call (lab.safegit.run_git, the
one way Arborist runs git): hooks point at /dev/null, submodules are not recursed, LFS smudge
filters are skipped, the user's and the system's git config are ignored, and the credential helper
and terminal prompts are disabled. The token, when there is one, travels in an `http.extraheader`
set through GIT_CONFIG_* environment variables: never in the URL, the command line or a log line.
"""

from __future__ import annotations

import re
import shutil
from pathlib import Path

from ci.env import CiEnv
from lab.safegit import run_git

DEFAULT_URL_TEMPLATE = "https://github.com/{repo}.git"
GIT_TIMEOUT_S = 600  # one fetch of one commit; a taxonomy is small, a stuck server is not
REPO_RE = re.compile(r"^[A-Za-z0-9_.-]+/[A-Za-z0-9_.-]+$")
SHA_RE = re.compile(r"^[0-9a-f]{40}([0-9a-f]{24})?$")


class CheckoutError(RuntimeError):
    """The commit could not be fetched; the message is safe to show (it never holds the token)."""


def clone_url(repo: str, template: str | None = None) -> str:
    """The remote URL for `repo` ("owner/name"): the template from the setting, GitHub by default."""
    if not REPO_RE.match(repo) or ".." in repo:
        raise CheckoutError(f"not a repository name: {repo!r}")
    return (template or DEFAULT_URL_TEMPLATE).replace("{repo}", repo)


def checkout_as_data(repo: str, sha: str, dest: Path, token: str | None = None,
                     url_template: str | None = None) -> Path:
    """Put the tree of `repo` at exactly `sha` in `dest` (created; must be empty) and return `dest`.

    `url_template` defaults to ARBORIST_GIT_URL_TEMPLATE, then to GitHub. The fetched commit is
    verified to be `sha` before anything is checked out.
    """
    if not SHA_RE.match(sha):
        raise CheckoutError(f"not a full commit SHA: {sha!r}")
    if shutil.which("git") is None:
        raise CheckoutError("git is not installed on this runner")
    dest = Path(dest)
    dest.mkdir(parents=True, exist_ok=True)
    if any(dest.iterdir()):
        raise CheckoutError(f"{dest} is not empty")
    url = clone_url(repo, url_template or CiEnv.from_environ().git_url_template)
    run_git(["init", "--quiet", "--template=", "."], dest, error=CheckoutError)
    run_git(["fetch", "--quiet", "--depth=1", "--no-tags", "--no-recurse-submodules", url, sha], dest, token=token,
            timeout_s=GIT_TIMEOUT_S, error=CheckoutError)
    fetched = run_git(["rev-parse", "FETCH_HEAD^{commit}"], dest, error=CheckoutError).strip()
    if fetched != sha:
        raise CheckoutError(f"asked for {sha}, fetched {fetched}")
    run_git(["checkout", "--quiet", "--detach", sha], dest, error=CheckoutError)
    return dest
