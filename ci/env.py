"""Settings and clients of a ci step, read once from the environment by the entry point.

A step runs either under a local worker (`ARBORIST_REPORT=stdout`, the default: progress goes back
as stdout lines and the worker edits the status comment and check run; the worker also passes an
installation token for the step's own calls) or on an Actions runner (`ARBORIST_REPORT=github`: the
step edits the status comment itself with `ARBORIST_GITHUB_TOKEN` or `GITHUB_TOKEN`). Every setting a
step reads from its environment is a field here: nothing in `ci` reads os.environ elsewhere.
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
    cache_dir: Path | None = None  # ARBORIST_CACHE_DIR: the SDG cache every job on a runner shares; None: data_dir/sdg-cache
    teacher: str | None = None  # ARBORIST_TEACHER: the runner's teacher when the repo config names none
    base_model: str = ""  # ARBORIST_BASE_MODEL: the student, a model folder or Hub repo id
    train_config: str | None = None  # ARBORIST_TRAIN_CONFIG: YAML/JSON overrides of lab.train's TrainConfig
    release_dir: str | None = None  # ARBORIST_RELEASE_DIR: publish into a folder instead of (or without) the Hub
    hf_endpoint: str | None = None  # HF_ENDPOINT: the Hub to publish to and read releases from
    hf_token: str | None = None  # HF_TOKEN; never printed (repr hides it)
    artefact_url_template: str | None = None  # ARBORIST_ARTEFACT_URL_TEMPLATE: where a job's data is, "{job_id}" filled in
    actions_run_url: str | None = None  # this Actions run, from GITHUB_SERVER_URL, GITHUB_REPOSITORY and GITHUB_RUN_ID

    def __repr__(self) -> str:
        return (f"CiEnv(report={self.report!r}, api_url={self.api_url!r}, token={'***' if self.token else None}, "
                f"git_url_template={self.git_url_template!r}, data_dir={str(self.data_dir)!r}, "
                f"hf_token={'***' if self.hf_token else None})")

    @classmethod
    def from_environ(cls, environ: Mapping[str, str] | None = None) -> CiEnv:
        env = os.environ if environ is None else environ
        report = env.get("ARBORIST_REPORT", "stdout").strip() or "stdout"
        if report not in REPORT_MODES:
            raise EnvError(f"ARBORIST_REPORT must be one of {', '.join(REPORT_MODES)}, not {report!r}")
        token = env.get("ARBORIST_GITHUB_TOKEN") or env.get("GITHUB_TOKEN") or None
        api_url = env.get("ARBORIST_GITHUB_API_URL") or env.get("ARBORIST_GITHUB_URL") or DEFAULT_API_URL
        run = env.get("GITHUB_RUN_ID") and env.get("GITHUB_REPOSITORY")
        server = env.get("GITHUB_SERVER_URL", "https://github.com")
        return cls(report=report, api_url=api_url.rstrip("/"),
                   token=token, git_url_template=env.get("ARBORIST_GIT_URL_TEMPLATE") or None,
                   git_token=env.get("ARBORIST_GIT_TOKEN") or token,
                   data_dir=Path(env.get("ARBORIST_DATA_DIR") or "./arborist-data"),
                   cache_dir=Path(env["ARBORIST_CACHE_DIR"]) if env.get("ARBORIST_CACHE_DIR") else None,
                   teacher=env.get("ARBORIST_TEACHER") or None, base_model=env.get("ARBORIST_BASE_MODEL", ""),
                   train_config=env.get("ARBORIST_TRAIN_CONFIG") or None,
                   release_dir=env.get("ARBORIST_RELEASE_DIR") or None,
                   hf_endpoint=env.get("HF_ENDPOINT") or None, hf_token=env.get("HF_TOKEN") or None,
                   artefact_url_template=env.get("ARBORIST_ARTEFACT_URL_TEMPLATE") or None,
                   actions_run_url=f"{server}/{env['GITHUB_REPOSITORY']}/actions/runs/{env['GITHUB_RUN_ID']}" if run else None)


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
