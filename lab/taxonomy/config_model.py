"""The pydantic side of the validation settings: what checks a file's, a mapping's or a flag's values.

Imported only where such values are read (lab.taxonomy.config's `from_mapping` and `with_overrides`),
so that `lab validate` on a tree without a config starts without pydantic. The models state the
types and bounds; the defaults are the plain dataclasses' (lab.taxonomy.config), and what comes out
is always one of those plain objects.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import asdict, fields
from typing import Annotated, Any

from pydantic import Field, field_validator

from lab.taxonomy.config import FROM_FILE, Limits, ValidationConfig
from lab.taxonomy.rules import RULES, RuleSeverity
from schemas.config_model import ConfigError, ConfigModel, validate

DEFAULT = Limits()
Count = Annotated[int, Field(gt=0)]
Share = Annotated[float, Field(gt=0)]


class LimitsModel(ConfigModel):
    """lab.taxonomy.config.Limits validated: every field positive, an int unless noted."""

    max_file_bytes: Count = DEFAULT.max_file_bytes
    max_attribution_bytes: Count = DEFAULT.max_attribution_bytes
    max_line_chars: Count = DEFAULT.max_line_chars
    max_depth: Count = DEFAULT.max_depth
    max_nodes: Count = DEFAULT.max_nodes
    max_items: Count = DEFAULT.max_items
    context_tokens: Count = DEFAULT.context_tokens
    qa_tokens: Count = DEFAULT.qa_tokens
    near_duplicate: Share = DEFAULT.near_duplicate

    @field_validator("*", mode="before")
    @classmethod
    def _whole_floats_are_ints(cls, value: Any) -> Any:
        """500.0 from a YAML or JSON number is the integer 500 (2.5 stays a float, and is refused)."""
        return int(value) if isinstance(value, float) and value.is_integer() else value

    def plain(self) -> Limits:
        return Limits(**{f.name: getattr(self, f.name) for f in fields(Limits)})


class ValidationModel(ConfigModel):
    """lab.taxonomy.config.ValidationConfig validated: known rule ids, known severities, typed limits."""

    severity: dict[str, RuleSeverity] = {}
    tokenizer: str | None = None
    limits: LimitsModel = LimitsModel()
    allow_local_docs: bool = False

    @field_validator("severity")
    @classmethod
    def _known_rules(cls, value: dict[str, str]) -> dict[str, str]:
        unknown = [rule for rule in value if rule not in RULES]
        if unknown:
            raise ValueError(f"unknown rule id {unknown[0]!r} (see docs/rules.md)")
        return value

    def plain(self) -> ValidationConfig:
        return ValidationConfig(severity=dict(self.severity), tokenizer=self.tokenizer, limits=self.limits.plain(),
                                allow_local_docs=self.allow_local_docs)


def validation_from_mapping(data: Mapping[str, Any] | None, where: str = "validation") -> ValidationConfig:
    """A mapping (a file's `validation:` section) as a ValidationConfig; ConfigError names the first bad key."""
    if isinstance(data, Mapping) and (unknown := sorted(str(k) for k in data if k not in FROM_FILE)):
        raise ConfigError(f"{where}.{unknown[0]}: unknown key; allowed: {', '.join(FROM_FILE)}")
    return ValidationModel.from_mapping(data, where).plain()


def validation_with_overrides(config: ValidationConfig, overrides: Mapping[str, Any],
                              where: str = "") -> ValidationConfig:
    """`config` with `overrides` applied, the whole result validated again (so every check runs)."""
    current = {**asdict(config), "severity": dict(config.severity)}
    model: ValidationModel = validate(ValidationModel, {**current, **dict(overrides)}, where)
    return model.plain()
