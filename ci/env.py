"""Settings and clients of a ci step, read once from the environment by the entry point.

A step runs either under a local worker (`ARBORIST_REPORT=stdout`, the default: progress goes back
as stdout lines and the worker edits the status comment and check run; the worker also passes an
installation token for the step's own calls) or on an Actions runner (`ARBORIST_REPORT=github`: the
step edits the status comment itself with `ARBORIST_GITHUB_TOKEN` or `GITHUB_TOKEN`). Every setting a
step reads from its environment is a field here: nothing in `ci` reads os.environ elsewhere. Read and
validated like every Arborist setting (schemas.env_settings): a bad value is one line naming it.
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Any, ClassVar, Literal

from pydantic import AliasChoices, Field, field_validator, model_validator

from lab.github.protocol import GitHubClient
from schemas.config_model import ConfigError
from schemas.env_settings import EnvSettings

DEFAULT_API_URL = "https://api.github.com"
REPORT_MODES = ("stdout", "github")


class EnvError(ConfigError, RuntimeError):
    """A setting is missing or wrong; the message names it (and never shows a secret's value)."""


def _env(*names: str) -> Any:
    """The variables a field is read from, first found wins (the field's own name works when built directly)."""
    return AliasChoices(*names)


class CiEnv(EnvSettings):
    error_type: ClassVar[type[ConfigError]] = EnvError

    report: Literal["stdout", "github"] = "stdout"  # ARBORIST_REPORT: "stdout" (a local worker relays) or "github"
    api_url: Annotated[str, Field(validation_alias=_env("ARBORIST_GITHUB_API_URL", "ARBORIST_GITHUB_URL", "api_url"))] = (
        DEFAULT_API_URL)  # ARBORIST_GITHUB_API_URL, else ARBORIST_GITHUB_URL (the bot's)
    token: Annotated[str | None, Field(repr=False, validation_alias=_env("ARBORIST_GITHUB_TOKEN", "GITHUB_TOKEN", "token"))] = (
        None)  # ARBORIST_GITHUB_TOKEN, else GITHUB_TOKEN; never printed
    git_url_template: str | None = None  # ARBORIST_GIT_URL_TEMPLATE, e.g. file:///srv/git/{repo}
    git_token: Annotated[str | None, Field(repr=False)] = None  # ARBORIST_GIT_TOKEN, else the API token; for fetching the taxonomy
    data_dir: Path = Path("./arborist-data")  # ARBORIST_DATA_DIR: caches and outputs of the step
    cache_dir: Path | None = None  # ARBORIST_CACHE_DIR: the SDG cache every job on a runner shares; None: data_dir/sdg-cache
    teacher: str | None = None  # ARBORIST_TEACHER: the runner's teacher when the repo config names none
    base_model: str = ""  # ARBORIST_BASE_MODEL: the student, a model folder or Hub repo id
    judge: str | None = None  # ARBORIST_JUDGE: a model that scores /precheck's answers 1-10 (a teacher spec); none: ROUGE-L only
    train_config: str | None = None  # ARBORIST_TRAIN_CONFIG: YAML/JSON overrides of lab.train's TrainConfig
    release_dir: str | None = None  # ARBORIST_RELEASE_DIR: publish into a folder instead of (or without) the Hub
    hf_endpoint: Annotated[str | None, Field(validation_alias=_env("HF_ENDPOINT", "hf_endpoint"))] = None  # the Hub
    hf_token: Annotated[str | None, Field(repr=False, validation_alias=_env("HF_TOKEN", "hf_token"))] = None  # never printed
    artefact_url_template: str | None = None  # ARBORIST_ARTEFACT_URL_TEMPLATE: where a job's data is, "{job_id}" filled in
    github_server_url: Annotated[str, Field(validation_alias=_env("GITHUB_SERVER_URL", "github_server_url"))] = (
        "https://github.com")  # set by Actions
    github_repository: Annotated[str | None, Field(validation_alias=_env("GITHUB_REPOSITORY", "github_repository"))] = None
    github_run_id: Annotated[str | None, Field(validation_alias=_env("GITHUB_RUN_ID", "github_run_id"))] = None

    @model_validator(mode="before")
    @classmethod
    def _git_token_defaults_to_the_api_token(cls, data: Any) -> Any:
        if isinstance(data, dict) and not data.get("git_token"):
            token = next((data[k] for k in ("ARBORIST_GITHUB_TOKEN", "GITHUB_TOKEN", "token") if data.get(k)), None)
            data = {**data, "git_token": token}
        return data

    @field_validator("api_url")
    @classmethod
    def _no_trailing_slash(cls, url: str) -> str:
        return url.rstrip("/")

    @property
    def actions_run_url(self) -> str | None:
        """This Actions run, from GITHUB_SERVER_URL, GITHUB_REPOSITORY and GITHUB_RUN_ID; None elsewhere."""
        if not (self.github_repository and self.github_run_id):
            return None
        return f"{self.github_server_url}/{self.github_repository}/actions/runs/{self.github_run_id}"


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
