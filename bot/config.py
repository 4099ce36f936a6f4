"""Repository config: `.github/arborist.yml`, validated by schemas/arborist_config.json, with defaults.

`load_repo_config(bytes | None)` never raises: an absent file gives the defaults; a broken file
gives the defaults for every broken section plus readable problems (the check run shows them).
The bytes are parsed by lab.taxonomy.repoconfig, bounded like a qna.yaml (size, depth, aliases).
`RepoConfig.from_mapping` is the one typed way to apply overrides; it rejects unknown keys and
wrong types. Read at the PR's base branch only: a PR must not loosen its own checks.
"""

from __future__ import annotations

import dataclasses
import types
import typing
from collections.abc import Mapping
from dataclasses import dataclass, field, fields, replace
from typing import Any

CONFIG_PATH = ".github/arborist.yml"
SCHEMA_NAME = "arborist_config"


@dataclass(frozen=True)
class ValidationSection:
    severity: dict[str, str] = field(default_factory=dict)  # rule id -> "error" | "warning" | "off"
    limits: dict[str, float] = field(default_factory=dict)  # lab.taxonomy Limits overrides (positive numbers)

    def as_mapping(self) -> dict[str, Any]:
        """The form `lab.taxonomy.ValidationConfig.from_mapping` takes."""
        return {"severity": dict(self.severity), "limits": dict(self.limits)}


@dataclass(frozen=True)
class CommandsSection:
    allowed_permissions: tuple[str, ...] = ("write", "maintain", "admin")  # collaborator permissions
    allowed_teams: tuple[str, ...] = ()  # "org/team-slug"; members may run commands too


@dataclass(frozen=True)
class GenerateSection:
    samples: int = 10  # samples per changed leaf when /generate names no number
    max_samples: int = 50  # the most a command may ask for, per leaf
    max_queued_per_pr: int = 3  # /generate jobs one PR may have queued or running at once
    max_queued_per_user: int = 5  # /generate jobs one user may have queued or running at once, all PRs together
    teacher: str | None = None  # path, OpenAI-compatible URL or Hub repo id; None: the runner's default


@dataclass(frozen=True)
class PrecheckSection:
    allow_author: bool = False  # the PR's author may run /precheck on their own PR without write permission
    max_questions: int = 60  # seed questions asked per /precheck, all changed leaves together
    max_queued_per_pr: int = 2  # /precheck jobs one PR may have queued or running at once
    max_queued_per_user: int = 3  # /precheck jobs one user may have queued or running at once, all PRs together


@dataclass(frozen=True)
class PreviewSection:
    samples: int | None = None  # generated rows per changed leaf; None: generate.samples (so the /generate cache hits)
    heldout_share: float = 0.25  # of each leaf's rows, kept out of training and asked of both models
    max_steps: int = 40  # optimizer steps of the LoRA run at most
    max_minutes: float = 20.0  # training wall time at most (minutes)
    general_questions: int = 30  # fixed general questions asked of both models (retention)
    max_queued_per_pr: int = 1  # /preview jobs one PR may have queued or running at once
    max_queued_per_user: int = 2  # /preview jobs one user may have queued or running at once, all PRs together


@dataclass(frozen=True)
class GateSection:
    min_effect: float = 0.01  # smallest score improvement (0..1) that counts as better
    allow_regression: bool = False  # release even when the score drops


@dataclass(frozen=True)
class RetrainSection:
    gate: GateSection = field(default_factory=GateSection)
    require_approval: bool = False  # a merged leaf is trained on only after a maintainer's /approve on its PR


@dataclass(frozen=True)
class ExecutorSection:
    runs_on: tuple[str, ...] = ("self-hosted", "gpu")  # runner labels for dispatched GPU jobs


@dataclass(frozen=True)
class ReleaseSection:
    repo_id: str | None = None  # Hub model repo "owner/name"; None: do not release
    tag_format: str = "v{date}-{shortsha}"  # {date} = YYYYMMDD, {shortsha} = 7 hex digits
    license: str = "apache-2.0"  # model card licence id
    private: bool = False  # create the Hub repo as private


@dataclass(frozen=True)
class RepoConfig:
    """Everything `.github/arborist.yml` can set. `RepoConfig()` is the documented default."""

    validation: ValidationSection = field(default_factory=ValidationSection)
    commands: CommandsSection = field(default_factory=CommandsSection)
    generate: GenerateSection = field(default_factory=GenerateSection)
    precheck: PrecheckSection = field(default_factory=PrecheckSection)
    preview: PreviewSection = field(default_factory=PreviewSection)
    retrain: RetrainSection = field(default_factory=RetrainSection)
    executor: ExecutorSection = field(default_factory=ExecutorSection)
    release: ReleaseSection = field(default_factory=ReleaseSection)

    @classmethod
    def from_mapping(cls, data: Mapping[str, Any] | None) -> RepoConfig:
        """Apply overrides onto the defaults; ValueError names the first unknown key or wrong type."""
        return _apply(cls(), data or {}, "")


def _check_value(hint: Any, value: Any, where: str) -> Any:
    """Coerce/validate one value against a field's type hint (the few shapes RepoConfig uses)."""
    origin = typing.get_origin(hint)
    if origin in (types.UnionType, typing.Union):
        options = typing.get_args(hint)
        if value is None and type(None) in options:
            return None
        hint = next(a for a in options if a is not type(None))
        origin = typing.get_origin(hint)
    if dataclasses.is_dataclass(hint):
        if not isinstance(value, Mapping):
            raise ValueError(f"{where}: expected a mapping, got {type(value).__name__}")
        return _apply(hint(), value, where)  # type: ignore[operator]
    if origin is tuple:
        if not isinstance(value, list | tuple) or not all(isinstance(v, str) for v in value):
            raise ValueError(f"{where}: expected a list of strings, got {value!r}")
        return tuple(value)
    if origin is dict:
        if not isinstance(value, Mapping):
            raise ValueError(f"{where}: expected a mapping, got {type(value).__name__}")
        return dict(value)
    if hint is bool:
        if not isinstance(value, bool):
            raise ValueError(f"{where}: expected true or false, got {value!r}")
        return value
    if hint is int:
        if isinstance(value, bool) or not isinstance(value, int):
            raise ValueError(f"{where}: expected an integer, got {value!r}")
        return value
    if hint is float:
        if isinstance(value, bool) or not isinstance(value, int | float):
            raise ValueError(f"{where}: expected a number, got {value!r}")
        return float(value)
    if hint is str:
        if not isinstance(value, str):
            raise ValueError(f"{where}: expected a string, got {value!r}")
        return value
    raise ValueError(f"{where}: unsupported value {value!r}")


def _apply(obj: Any, data: Mapping[str, Any], prefix: str) -> Any:
    hints = typing.get_type_hints(type(obj))
    known = {f.name for f in fields(obj)}
    unknown = sorted(str(k) for k in data if k not in known)
    if unknown:
        where = prefix or "top level"
        raise ValueError(f"{where}: unknown key(s) {', '.join(unknown)}; allowed: {', '.join(sorted(known))}")
    changes = {key: _check_value(hints[key], value, f"{prefix}.{key}" if prefix else key)
               for key, value in data.items()}
    return replace(obj, **changes)


def _schema_problems(data: Any) -> list[tuple[str, str]]:
    """(top-level section or "", readable problem) for every schema violation."""
    import jsonschema

    from schemas import load_schema

    validator = jsonschema.Draft202012Validator(load_schema(SCHEMA_NAME))
    out = []
    for error in sorted(validator.iter_errors(data), key=lambda e: list(map(str, e.absolute_path))):
        path = ".".join(str(p) for p in error.absolute_path)
        section = str(error.absolute_path[0]) if error.absolute_path else ""
        out.append((section, f"{CONFIG_PATH}: {path or 'top level'}: {error.message}"))
    return out


def _check_validation_section(section: Mapping[str, Any]) -> str | None:
    """Ask lab.taxonomy whether it accepts this section (unknown rule ids, limit names)."""
    try:
        from lab.taxonomy.config import ValidationConfig
    except ImportError:  # lab.taxonomy without its config module: the schema check alone applies
        return None
    try:
        ValidationConfig.from_mapping(dict(section))
    except ValueError as exc:
        return f"{CONFIG_PATH}: {exc}"
    return None


def _check_release_section(section: Any) -> str | None:
    """Refuse a tag format that names anything but the documented plain fields (schemas.tag_format)."""
    from schemas.tag_format import TagFormatError, check_tag_format

    if not isinstance(section, Mapping) or "tag_format" not in section:
        return None
    try:
        check_tag_format(section["tag_format"])
    except TagFormatError as exc:
        return f"{CONFIG_PATH}: release.{exc}"
    return None


def load_repo_config(data: bytes | None) -> tuple[RepoConfig, list[str]]:
    """Parse and validate the config file's bytes; broken sections fall back to their defaults. Never raises."""
    try:
        return _load(data)
    except Exception as exc:  # noqa: BLE001 - a hostile config must never cost the check run or /help
        return RepoConfig(), [f"{CONFIG_PATH}: cannot be read ({type(exc).__name__}); using defaults"]


def _load(data: bytes | None) -> tuple[RepoConfig, list[str]]:
    from lab.taxonomy.repoconfig import parse_config, short

    parsed, read_problems = parse_config(data, CONFIG_PATH)  # bounded: size, depth, aliases (the qna.yaml loader)
    if not parsed:  # absent, empty, or unreadable (then read_problems says why)
        return RepoConfig(), read_problems
    problems = [(section, short(p)) for section, p in _schema_problems(parsed)]
    if any(section == "" for section, _ in problems):
        return RepoConfig(), read_problems + [p for _, p in problems] + [f"{CONFIG_PATH}: using defaults"]
    broken = {section for section, _ in problems}
    messages = read_problems + [p for _, p in problems]
    if "validation" in parsed and "validation" not in broken:
        problem = _check_validation_section(parsed["validation"] or {})
        if problem:
            broken.add("validation")
            messages.append(problem)
    if "release" in parsed and "release" not in broken and (problem := _check_release_section(parsed["release"])):
        broken.add("release")
        messages.append(problem)
    kept = {k: v for k, v in parsed.items() if k not in broken}
    for section in sorted(broken):
        messages.append(f"{CONFIG_PATH}: section '{section}' ignored; its defaults apply")
    try:
        return RepoConfig.from_mapping(kept), messages
    except ValueError as exc:  # the schema and the dataclasses disagree: still never a crash
        return RepoConfig(), messages + [f"{CONFIG_PATH}: {exc}; using defaults"]


def render_config_reference() -> str:
    """A Markdown table of every setting, its type, default and meaning, rendered from the schema."""
    from schemas import load_schema

    rows = ["| key | type | default | meaning |", "| --- | --- | --- | --- |"]

    def walk(node: Mapping[str, Any], prefix: str) -> None:
        for key, sub in node.get("properties", {}).items():
            name = f"{prefix}.{key}" if prefix else key
            if sub.get("type") == "object" and "properties" in sub:
                walk(sub, name)
                continue
            kind = sub.get("type") or "one of " + ", ".join(f"`{v}`" for v in sub.get("enum", []))
            kind = " or ".join(kind) if isinstance(kind, list) else kind
            default = _yaml_inline(sub.get("default"))
            rows.append(f"| `{name}` | {kind} | `{default}` | {sub.get('description', '')} |")

    walk(load_schema(SCHEMA_NAME), "")
    return "\n".join(rows) + "\n"


def _yaml_inline(value: Any) -> str:
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, list):
        return "[" + ", ".join(map(str, value)) + "]"
    if isinstance(value, dict):
        return "{}" if not value else str(value)
    return str(value)
