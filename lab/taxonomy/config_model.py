"""The pydantic side of the validation settings: what checks a file's, a mapping's or a flag's values.

Imported only where such values are read (lab.taxonomy.config's `from_mapping` and `with_overrides`),
so that `lab validate` on a tree without a config starts without pydantic. The models state the
types and bounds; the values they start from (the defaults, or the config being overridden) come in
as a plain mapping, and what comes out is a plain mapping that lab.taxonomy.config turns back into
its frozen dataclasses. Nothing here imports lab.taxonomy.config (no import circle).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Annotated, Any

from pydantic import Field, field_validator

from lab.taxonomy.rules import RULES, RuleSeverity
from schemas.config_model import ConfigError, ConfigModel, validate

FROM_FILE = ("severity", "tokenizer", "limits")  # what a file may set (allow_local_docs is the CLI's alone)
Count = Annotated[int, Field(gt=0)]
Share = Annotated[float, Field(gt=0)]


class LimitsModel(ConfigModel):
    """lab.taxonomy.config.Limits validated: every field positive, an int unless noted."""

    max_file_bytes: Count
    max_attribution_bytes: Count
    max_line_chars: Count
    max_depth: Count
    max_nodes: Count
    max_items: Count
    context_tokens: Count
    qa_tokens: Count
    near_duplicate: Share

    @field_validator("*", mode="before")
    @classmethod
    def _whole_floats_are_ints(cls, value: Any) -> Any:
        """500.0 from a YAML or JSON number is the integer 500 (2.5 stays a float, and is refused)."""
        return int(value) if isinstance(value, float) and value.is_integer() else value


class ValidationModel(ConfigModel):
    """lab.taxonomy.config.ValidationConfig validated: known rule ids, known severities, typed limits."""

    severity: dict[str, RuleSeverity]
    tokenizer: str | None
    limits: LimitsModel
    allow_local_docs: bool

    @field_validator("severity")
    @classmethod
    def _known_rules(cls, value: dict[str, str]) -> dict[str, str]:
        unknown = [rule for rule in value if rule not in RULES]
        if unknown:
            raise ValueError(f"unknown rule id {unknown[0]!r} (see docs/rules.md)")
        return value


def validated(current: Mapping[str, Any], changes: Mapping[str, Any] | None, where: str = "",
              from_file: bool = False) -> dict[str, Any]:
    """`current` (a ValidationConfig as a dict) with `changes` applied, validated whole; a plain dict.

    `limits` is merged key by key; with `from_file`, only FROM_FILE keys may change. ConfigError names
    the first bad key.
    """
    if changes is not None and not isinstance(changes, Mapping):
        raise ConfigError(f"{where or 'top level'}: expected a mapping, got {type(changes).__name__}")
    changes = dict(changes or {})
    if from_file and (unknown := sorted(str(k) for k in changes if k not in FROM_FILE)):
        raise ConfigError(f"{where}.{unknown[0]}: unknown key; allowed: {', '.join(FROM_FILE)}")
    merged = {**current, **changes}
    if isinstance(changes.get("limits"), Mapping):
        merged["limits"] = {**current["limits"], **changes["limits"]}
    model: ValidationModel = validate(ValidationModel, merged, where)
    return model.model_dump()
