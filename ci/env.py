"""Settings and clients of a ci step, read once from the environment by the entry point.

A step runs either under a local worker (`ARBORIST_REPORT=stdout`, the default: progress goes back
as stdout lines and the worker edits the status comment and check run; the worker also passes an
installation token for the step's own calls) or on an Actions runner (`ARBORIST_REPORT=github`: the
step edits the status comment itself with `ARBORIST_GITHUB_TOKEN` or `GITHUB_TOKEN`).
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

from lab.github.protocol import GitHubClient

DEFAULT_API_URL = "https://api.github.com"
REPORT_MODES = ("stdout", "github")


class EnvError(RuntimeError):
    """A setting is missing or wrong; the message names it (and never shows a secret's value)."""


@dataclass(frozen=True)
class CiEnv:
    report: str = "stdout"  # "stdout" (a local worker relays) or "github" (edit GitHub directly)
    api_url: str = DEFAULT_API_URL  # ARBORIST_GITHUB_API_URL, else ARBORIST_GITHUB_URL (the bot's)
    token: str | None = None  # ARBORIST_GITHUB_TOKEN, else GITHUB_TOKEN; never printed (repr hides it)
    git_url_template: str | None = None  # ARBORIST_GIT_URL_TEMPLATE, e.g. file:///srv/git/{repo}
    git_token: str | None = None  # ARBORIST_GIT_TOKEN, else the API token; for fetching the taxonomy
    data_dir: Path = Path("./arborist-data")  # ARBORIST_DATA_DIR: caches and outputs of the step

    def __repr__(self) -> str:
        return (f"CiEnv(report={self.report!r}, api_url={self.api_url!r}, token={'***' if self.token else None}, "
                f"git_url_template={self.git_url_template!r}, data_dir={str(self.data_dir)!r})")

    @classmethod
    def from_environ(cls, environ: Mapping[str, str] | None = None) -> CiEnv:
        env = os.environ if environ is None else environ
        report = env.get("ARBORIST_REPORT", "stdout").strip() or "stdout"
        if report not in REPORT_MODES:
            raise EnvError(f"ARBORIST_REPORT must be one of {', '.join(REPORT_MODES)}, not {report!r}")
        token = env.get("ARBORIST_GITHUB_TOKEN") or env.get("GITHUB_TOKEN") or None
        api_url = env.get("ARBORIST_GITHUB_API_URL") or env.get("ARBORIST_GITHUB_URL") or DEFAULT_API_URL
        return cls(report=report, api_url=api_url.rstrip("/"),
                   token=token, git_url_template=env.get("ARBORIST_GIT_URL_TEMPLATE") or None,
                   git_token=env.get("ARBORIST_GIT_TOKEN") or token,
                   data_dir=Path(env.get("ARBORIST_DATA_DIR") or "./arborist-data"))


def github_client(env: CiEnv) -> GitHubClient | None:
    """The step's GitHub client (for its own calls, e.g. notes on merged PRs), None without a token.

    Under a local worker the worker passes an installation token, and the status comment and check
    run are still the worker's to edit (`ci.report.Reporter` only edits them when ARBORIST_REPORT is
    "github"); on an Actions runner the token is required.
    """
    if not env.token:
        if env.report == "github":
            raise EnvError("ARBORIST_REPORT=github needs ARBORIST_GITHUB_TOKEN or GITHUB_TOKEN")
        return None
    from lab.github.pygithub_client import PyGithubClient

    token = env.token
    return PyGithubClient(env.api_url, lambda: token)
