"""Validation settings: one model with a commented default per field, validated like every Arborist config.

`ValidationConfig.from_mapping` takes the `validation:` section of `.github/arborist.yml` (read by
lab.taxonomy.repoconfig); a refusal is a ConfigError (a ValueError) naming the key.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Annotated, Any, Self

from pydantic import Field, field_validator

from lab.taxonomy.rules import RULES, RuleSeverity
from schemas.config_model import ConfigError, ConfigModel

SEVERITIES = ("error", "warning", "off")
FROM_FILE = ("severity", "tokenizer", "limits")  # what a mapping may set (allow_local_docs is the CLI's alone)


class Limits(ConfigModel):
    """Bounds on hostile input and the documented content limits. Every field is an int unless noted."""

    max_file_bytes: Annotated[int, Field(gt=0)] = 1_000_000  # bytes per qna.yaml; the largest real one is 86 KB
    max_attribution_bytes: Annotated[int, Field(gt=0)] = 100_000  # bytes per attribution.txt
    max_line_chars: Annotated[int, Field(gt=0)] = 20_000  # characters per line; the longest real line is about 9,000
    max_depth: Annotated[int, Field(gt=0)] = 32  # nesting levels of mappings and lists; a valid file needs 5
    max_nodes: Annotated[int, Field(gt=0)] = 100_000  # YAML values after alias expansion (the billion-laughs guard)
    max_items: Annotated[int, Field(gt=0)] = 1_000  # entries in one list or mapping; the most in a real file is 177
    context_tokens: Annotated[int, Field(gt=0)] = 500  # a knowledge context must be fewer than this many tokens
    qa_tokens: Annotated[int, Field(gt=0)] = 250  # a question or an answer may have at most this many tokens
    near_duplicate: Annotated[float, Field(gt=0)] = 0.9  # word-set similarity (Jaccard, 0..1) from which questions are near-duplicates

    @field_validator("*", mode="before")
    @classmethod
    def _whole_floats_are_ints(cls, value: Any) -> Any:
        """500.0 from a YAML or JSON number is the integer 500 (2.5 stays a float, and is refused)."""
        return int(value) if isinstance(value, float) and value.is_integer() else value


class ValidationConfig(ConfigModel):
    """What `lab validate` and the bot check, and how strictly."""

    severity: dict[str, RuleSeverity] = {}  # rule id -> "error" | "warning" | "off"
    tokenizer: str | None = None  # path to a tokenizer.json (or a folder with one); None: word-based estimate
    limits: Limits = Limits()
    # Accept local document repositories (paths, file://). Set only by the `lab` CLI's --allow-local-docs,
    # never from a mapping: a repository's config (and so a PR) cannot turn it on.
    allow_local_docs: bool = False

    @field_validator("severity")
    @classmethod
    def _known_rules(cls, value: dict[str, str]) -> dict[str, str]:
        unknown = [rule for rule in value if rule not in RULES]
        if unknown:
            raise ValueError(f"unknown rule id {unknown[0]!r} (see docs/rules.md)")
        return value

    def severity_of(self, rule: str) -> str:
        """The effective severity of a rule: the override if one is set, else the rule's default."""
        return self.severity.get(rule) or RULES[rule].severity

    @classmethod
    def from_mapping(cls, data: Mapping[str, Any] | None, where: str = "validation") -> Self:
        """Build from a plain mapping (e.g. the `validation:` section of .github/arborist.yml).

        Unknown keys (allow_local_docs too), unknown rule ids and wrong types raise ConfigError naming the key.
        """
        if isinstance(data, Mapping) and (unknown := sorted(str(k) for k in data if k not in FROM_FILE)):
            raise ConfigError(f"{where}.{unknown[0]}: unknown key; allowed: {', '.join(FROM_FILE)}")
        return super().from_mapping(data, where)
