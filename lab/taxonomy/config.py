"""Validation settings as plain frozen dataclasses, so the validator starts without loading pydantic.

The core (loader, rules, validate) only reads these. Values from a file, a mapping or `--set` go
through the pydantic models of lab.taxonomy.config_model, imported only when such values are read
(`from_mapping`, `with_overrides`): the one settings mechanism validates them and a refusal is a
ConfigError (a ValueError) naming the key; what comes out is one of these plain objects.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import asdict, dataclass, field
from typing import Any

from lab.taxonomy.rules import RULES

SEVERITIES = ("error", "warning", "off")


@dataclass(frozen=True)
class Limits:
    """Bounds on hostile input and the documented content limits. Every field is an int unless noted."""

    max_file_bytes: int = 1_000_000  # bytes per qna.yaml; the largest real one is 86 KB
    max_attribution_bytes: int = 100_000  # bytes per attribution.txt
    max_line_chars: int = 20_000  # characters per line; the longest real line is about 9,000
    max_depth: int = 32  # nesting levels of mappings and lists; a valid file needs 5
    max_nodes: int = 100_000  # YAML values after alias expansion (the billion-laughs guard)
    max_items: int = 1_000  # entries in one list or mapping; the most in a real file is 177
    context_tokens: int = 500  # a knowledge context must be fewer than this many tokens
    qa_tokens: int = 250  # a question or an answer may have at most this many tokens
    near_duplicate: float = 0.9  # word-set similarity (Jaccard, 0..1) from which questions are near-duplicates


@dataclass(frozen=True)
class ValidationConfig:
    """What `lab validate` and the bot check, and how strictly."""

    severity: Mapping[str, str] = field(default_factory=dict)  # rule id -> "error" | "warning" | "off"
    tokenizer: str | None = None  # path to a tokenizer.json (or a folder with one); None: word-based estimate
    limits: Limits = field(default_factory=Limits)
    # Accept local document repositories (paths, file://). Set only by the `lab` CLI's --allow-local-docs,
    # never from a mapping: a repository's config (and so a PR) cannot turn it on.
    allow_local_docs: bool = False

    def severity_of(self, rule: str) -> str:
        """The effective severity of a rule: the override if one is set, else the rule's default."""
        return self.severity.get(rule) or RULES[rule].severity

    @classmethod
    def from_mapping(cls, data: Mapping[str, Any] | None, where: str = "validation") -> ValidationConfig:
        """Build from a plain mapping (e.g. the `validation:` section of .github/arborist.yml).

        Unknown keys (allow_local_docs too), unknown rule ids and wrong types raise ConfigError naming the key.
        """
        if data is None:
            return cls()
        from lab.taxonomy.config_model import validated

        return _plain(validated(_as_dict(cls()), data, where, from_file=True))

    def with_overrides(self, overrides: Mapping[str, Any], where: str = "") -> ValidationConfig:
        """A copy with `overrides` applied, the whole result validated again by the pydantic model."""
        from lab.taxonomy.config_model import validated

        return _plain(validated(_as_dict(self), overrides, where))


def _as_dict(config: ValidationConfig) -> dict[str, Any]:
    return {**asdict(config), "severity": dict(config.severity)}


def _plain(values: Mapping[str, Any]) -> ValidationConfig:
    """A validated mapping (lab.taxonomy.config_model) as the frozen dataclasses the core reads."""
    return ValidationConfig(severity=dict(values["severity"]), tokenizer=values["tokenizer"],
                            limits=Limits(**values["limits"]), allow_local_docs=values["allow_local_docs"])
