"""What GitHub's error answers mean to a GitHubClient, one mapping for the in-memory fake and the PyGithub adapter.

GitHub answers 404 for what does not exist (or what the App may not see), 403 for what the token may
not do, 409 for a conflict (cancelling a run that already ended) and 422 for a request it rejects as
invalid. The fake (sandbox.fakes.github) raises the types below; the adapter raises PyGithub's
GithubException, which carries the same status. `status_of` reads either, so the adapter's "absent"
answers and the contract tests decide on the status, never on which client raised it.
"""

from __future__ import annotations

NOT_FOUND = 404  # absent, or not visible to the App: a file, a collaborator, a team membership
FORBIDDEN = 403
CONFLICT = 409  # e.g. cancelling a workflow run that already completed
UNPROCESSABLE = 422


class GitHubError(Exception):
    """What GitHub would answer with an error status; `status` is that status."""

    status = 400


class NotFound(GitHubError, LookupError):
    """A 404: what was asked for does not exist."""

    status = NOT_FOUND


class Forbidden(GitHubError, PermissionError):
    """A 403: an App token may not do this (edit someone else's comment)."""

    status = FORBIDDEN


class Refused(GitHubError, ValueError):
    """A 422: GitHub rejects the request as invalid; nothing changed."""

    status = UNPROCESSABLE


def status_of(exc: BaseException) -> int | None:
    """The HTTP status GitHub answered for `exc` (a GitHubError or PyGithub's GithubException);
    None for anything else (no answer at all, or a bug)."""
    if isinstance(exc, GitHubError):
        return exc.status
    if type(exc).__module__.split(".")[0] == "github":  # PyGithub, without importing it here
        status = getattr(exc, "status", None)
        return status if isinstance(status, int) else None
    return None
