"""Validation settings: one dataclass with a commented default per field, and one typed way to override it."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field, fields, replace
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
    def from_mapping(cls, data: Mapping[str, Any] | None) -> ValidationConfig:
        """Build from a plain mapping (e.g. the `validation:` section of .github/arborist.yml).

        Unknown keys, unknown rule ids and wrong types raise ValueError naming the offending key.
        """
        if data is None:
            return cls()
        if not isinstance(data, Mapping):
            raise ValueError(f"validation: expected a mapping, got {type(data).__name__}")
        allowed = {"severity", "tokenizer", "limits"}
        unknown = sorted(set(data) - allowed)
        if unknown:
            raise ValueError(f"validation: unknown key(s) {', '.join(map(str, unknown))}; allowed: {sorted(allowed)}")
        severity = _severity_map(data.get("severity") or {})
        tokenizer = data.get("tokenizer")
        if tokenizer is not None and not isinstance(tokenizer, str):
            raise ValueError(f"validation.tokenizer: expected a path string, got {type(tokenizer).__name__}")
        limits = _limits(data.get("limits") or {})
        return cls(severity=severity, tokenizer=tokenizer, limits=limits)


def _severity_map(raw: Any) -> dict[str, str]:
    if not isinstance(raw, Mapping):
        raise ValueError(f"validation.severity: expected a mapping of rule id to severity, got {type(raw).__name__}")
    out: dict[str, str] = {}
    for rule, level in raw.items():
        if rule not in RULES:
            raise ValueError(f"validation.severity: unknown rule id {rule!r} (see docs/rules.md)")
        if level not in SEVERITIES:
            raise ValueError(f"validation.severity.{rule}: expected one of {SEVERITIES}, got {level!r}")
        out[rule] = level
    return out


def _limits(raw: Any) -> Limits:
    if not isinstance(raw, Mapping):
        raise ValueError(f"validation.limits: expected a mapping, got {type(raw).__name__}")
    types = {f.name: f.type for f in fields(Limits)}
    values: dict[str, Any] = {}
    for key, value in raw.items():
        if key not in types:
            raise ValueError(f"validation.limits: unknown key {key!r}; allowed: {sorted(types)}")
        want_float = types[key] in (float, "float")
        if not want_float and isinstance(value, float) and value.is_integer():
            value = int(value)  # 500.0 from a YAML or JSON number is the integer 500
        ok = isinstance(value, int | float) if want_float else isinstance(value, int)
        if isinstance(value, bool) or not ok:
            kind = "a number" if want_float else "an integer"
            raise ValueError(f"validation.limits.{key}: expected {kind}, got {value!r}")
        if value <= 0:
            raise ValueError(f"validation.limits.{key}: must be positive, got {value!r}")
        values[key] = float(value) if want_float else value
    return replace(Limits(), **values)
