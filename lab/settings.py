"""What `lab` reads from its environment besides the Hub's (lab.hub_settings) and the scale settings
(lab.scale_settings): one small pydantic-settings class per concern, read once where it is used.

Every class names its variables and is read with `from_environ()` (schemas.env_settings), so a bad
value is one line naming the variable. Secrets (the teacher's API key, the signing key) are SecretStr:
never in a repr, a log line or an error. Nothing else in `lab` reads the environment for a setting
(tests/test_env_reads.py holds the list of the few places that copy it whole for a child process).
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

from pydantic import AliasChoices, Field, SecretStr

from schemas.env_settings import EnvSettings

ALLOW_LOCAL_DOCS_ENV = "ARBORIST_ALLOW_LOCAL_DOCS"  # "1": accept local document repositories (never in the bot)


def _env(*names: str, field: str) -> AliasChoices:
    """The variables a field is read from (the first one set wins) and its own name, for direct use."""
    return AliasChoices(*names, field)


class CliSettings(EnvSettings):
    """The `lab` commands' defaults from the environment."""

    teacher: str | None = None  # ARBORIST_TEACHER: `lab generate --teacher`'s default
    allow_local_docs: Annotated[bool, Field(validation_alias=_env(ALLOW_LOCAL_DOCS_ENV, field="allow_local_docs"))] = (
        False)  # accept local paths and file:// document repositories (`--allow-local-docs`)


class CacheSettings(EnvSettings):
    """Where the caches live: generated data under ARBORIST_CACHE_DIR, models under ARBORIST_CACHE_DIR/models."""

    cache_dir: Path | None = None  # ARBORIST_CACHE_DIR; None: ~/.cache/arborist/sdg and ~/.cache/arborist/models


class TeacherKeySettings(EnvSettings):
    """The API key sent to an OpenAI-compatible teacher (never shown)."""

    api_key: Annotated[SecretStr | None, Field(validation_alias=_env(
        "ARBORIST_TEACHER_API_KEY", "OPENAI_API_KEY", field="api_key"))] = None

    def key(self) -> str | None:
        return self.api_key.get_secret_value() if self.api_key else None


class SigningSettings(EnvSettings):
    """The release signing key (a PEM private key or its path; never shown) and the public key a consumer pins."""

    signing_key: SecretStr | None = None  # ARBORIST_SIGNING_KEY
    release_public_key: str | None = None  # ARBORIST_RELEASE_PUBLIC_KEY: PEM, base64 raw, or a file's path


class DistSettings(EnvSettings):
    """The process group torchrun describes: this process's rank, its rank on the machine, and how many there are."""

    rank: Annotated[int, Field(ge=0, validation_alias=_env("RANK", field="rank"))] = 0
    local_rank: Annotated[int, Field(ge=0, validation_alias=_env("LOCAL_RANK", field="local_rank"))] = 0
    world_size: Annotated[int, Field(ge=1, validation_alias=_env("WORLD_SIZE", field="world_size"))] = 1
