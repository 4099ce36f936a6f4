"""Settings read from the environment: pydantic-settings models validated like every other config.

A settings class names its variables (`ARBORIST_<FIELD>` unless a field says otherwise), is read once
by an entry point with `from_environ()` (or a given mapping, in tests), and is a plain validated
model when built directly: only `from_environ` looks at the environment. A refusal is one line
naming the variable, never showing a secret's value.
"""

from __future__ import annotations

import os
from collections.abc import Iterator, Mapping
from typing import Any, ClassVar, Self

from pydantic import AliasChoices, ValidationError
from pydantic_settings import BaseSettings, EnvSettingsSource, PydanticBaseSettingsSource, SettingsConfigDict
from pydantic_settings.sources.utils import parse_env_vars

from schemas.config_model import ConfigError, describe

ENV_PREFIX = "ARBORIST_"


class _Masked:
    """Stands in for a secret in a repr: it says one is set, never what it is."""

    def __repr__(self) -> str:
        return "***"


class _MappingEnvSource(EnvSettingsSource):
    """pydantic-settings' environment source over a given mapping instead of os.environ."""

    def __init__(self, settings_cls: type[BaseSettings], environ: Mapping[str, str]):
        self._environ = environ
        super().__init__(settings_cls)

    def _load_env_vars(self) -> Mapping[str, str | None]:
        return parse_env_vars(self._environ, self.case_sensitive, self.env_ignore_empty, self.env_parse_none_str)


class EnvSettings(BaseSettings):
    """Base of the bot's, the job system's and the ci step's settings."""

    model_config = SettingsConfigDict(env_prefix=ENV_PREFIX, frozen=True, extra="ignore", env_ignore_empty=True)
    error_type: ClassVar[type[ConfigError]] = ConfigError  # what a refusal raises (a subclass may name its own)
    not_from_env: ClassVar[frozenset[str]] = frozenset()  # fields an entry point fills itself (e.g. a key file's contents)

    def __init__(self, **values: Any) -> None:
        try:
            super().__init__(**values)
        except ValidationError as exc:
            raise self.error_type(describe(exc, type(self), names=type(self).env_names())) from None

    def __repr_args__(self) -> Iterator[tuple[str | None, Any]]:
        """Every field; a secret (a field with repr=False) as *** when set."""
        for name, field in type(self).model_fields.items():
            value = getattr(self, name)
            if field.repr:
                yield name, value
            elif value:
                yield name, _Masked()

    @classmethod
    def settings_customise_sources(cls, settings_cls: type[BaseSettings], init_settings: PydanticBaseSettingsSource,
                                   env_settings: PydanticBaseSettingsSource, dotenv_settings: PydanticBaseSettingsSource,
                                   file_secret_settings: PydanticBaseSettingsSource) -> tuple[PydanticBaseSettingsSource, ...]:
        return (init_settings,)  # built directly: only what is given; from_environ reads the environment

    @classmethod
    def from_environ(cls, environ: Mapping[str, str] | None = None, **given: Any) -> Self:
        """Read the settings once from `environ` (default: os.environ); `given` values are set by the caller."""
        read = _MappingEnvSource(cls, os.environ if environ is None else environ)()
        return cls(**{key: value for key, value in read.items() if key not in cls.not_from_env}, **given)

    @classmethod
    def env_names(cls) -> dict[str, str]:
        """Field name -> the variable a user sets (the first one, where a field accepts several)."""
        names = {}
        for name, field in cls.model_fields.items():
            if name in cls.not_from_env:
                continue
            alias = field.validation_alias
            if isinstance(alias, AliasChoices):
                alias = next((a for a in alias.choices if isinstance(a, str)), None)
            names[name] = alias if isinstance(alias, str) else f"{ENV_PREFIX}{name.upper()}"
        return names
