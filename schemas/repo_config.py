"""The typed repository config, `.github/arborist.yml`: one model that the bot, ci and lab share.

Pure data: no file is read here (lab.taxonomy.repoconfig is the one reader: bounded, and a broken
file becomes problems and defaults). The published contract is schemas/arborist_config.json, from
which the README's reference is rendered; this model states the same keys, bounds and defaults,
and a test keeps the two in agreement. Read at the PR's base branch only: a PR must not loosen its
own checks.
"""

from __future__ import annotations

from typing import Annotated, Any, Literal

from pydantic import Field, StringConstraints, field_validator

from schemas.config_model import ConfigModel

CONFIG_PATH = ".github/arborist.yml"
SCHEMA_NAME = "arborist_config"
RULE_ID = r"^[a-z0-9][a-z0-9-]*$"
TEAM = r"^[A-Za-z0-9][A-Za-z0-9-]*/[A-Za-z0-9][A-Za-z0-9_.-]*$"
REPO_ID = r"^[A-Za-z0-9][A-Za-z0-9_.-]*/[A-Za-z0-9][A-Za-z0-9_.-]*$"

Severity = Literal["error", "warning", "off"]
Permission = Literal["read", "triage", "write", "maintain", "admin"]
RuleId = Annotated[str, StringConstraints(pattern=RULE_ID)]
PositiveNumber = Annotated[float, Field(gt=0)]
Label = Annotated[str, StringConstraints(min_length=1, max_length=100)]
Text100 = Annotated[str, StringConstraints(min_length=1, max_length=100)]


def _unique(values: tuple[Any, ...]) -> tuple[Any, ...]:
    if len(set(values)) != len(values):
        raise ValueError("expected each value once")
    return values


class ValidationSection(ConfigModel):
    severity: dict[RuleId, Severity] = {}  # rule id -> "error" | "warning" | "off"
    limits: dict[str, PositiveNumber] = {}  # lab.taxonomy Limits overrides (positive numbers)

    def as_mapping(self) -> dict[str, Any]:
        """The form `lab.taxonomy.ValidationConfig.from_mapping` takes."""
        return {"severity": dict(self.severity), "limits": dict(self.limits)}


class CommandsSection(ConfigModel):
    allowed_permissions: Annotated[tuple[Permission, ...], Field(strict=False)] = ("write", "maintain", "admin")  # collaborator permissions
    allowed_teams: Annotated[tuple[Annotated[str, StringConstraints(pattern=TEAM)], ...], Field(strict=False)] = ()  # "org/team-slug"

    _unique_lists = field_validator("allowed_permissions", "allowed_teams")(_unique)


class GenerateSection(ConfigModel):
    samples: Annotated[int, Field(ge=1, le=1000)] = 10  # samples per changed leaf when /generate names no number
    max_samples: Annotated[int, Field(ge=1, le=1000)] = 50  # the most a command may ask for, per leaf
    max_queued_per_pr: Annotated[int, Field(ge=1, le=100)] = 3  # /generate jobs one PR may have queued or running at once
    max_queued_per_user: Annotated[int, Field(ge=1, le=100)] = 5  # the same for one user, all PRs together
    teacher: Annotated[str, StringConstraints(max_length=500)] | None = None  # path, URL or Hub repo id; None: the runner's


class PrecheckSection(ConfigModel):
    allow_author: bool = False  # the PR's author may run /precheck on their own PR without write permission
    max_questions: Annotated[int, Field(ge=1, le=500)] = 60  # seed questions asked per /precheck, all changed leaves together
    max_queued_per_pr: Annotated[int, Field(ge=1, le=100)] = 2  # /precheck jobs one PR may have queued or running at once
    max_queued_per_user: Annotated[int, Field(ge=1, le=100)] = 3  # the same for one user, all PRs together


class PreviewSection(ConfigModel):
    samples: Annotated[int, Field(ge=1, le=200)] | None = None  # generated rows per changed leaf; None: generate.samples (cache hits)
    heldout_share: Annotated[float, Field(ge=0.1, le=0.5)] = 0.25  # of each leaf's rows, kept out of training, asked of both models
    max_steps: Annotated[int, Field(ge=1, le=1000)] = 40  # optimizer steps of the LoRA run at most
    max_minutes: Annotated[float, Field(ge=1, le=120)] = 20.0  # training wall time at most (minutes)
    general_questions: Annotated[int, Field(ge=0, le=30)] = 30  # fixed general questions asked of both models (retention)
    max_queued_per_pr: Annotated[int, Field(ge=1, le=100)] = 1  # /preview jobs one PR may have queued or running at once
    max_queued_per_user: Annotated[int, Field(ge=1, le=100)] = 2  # the same for one user, all PRs together


class GateSection(ConfigModel):
    min_effect: Annotated[float, Field(ge=0, le=1)] = 0.01  # smallest score improvement (0..1) that counts as better
    allow_regression: bool = False  # release even when the score drops


class RetrainSection(ConfigModel):
    gate: GateSection = GateSection()
    require_approval: bool = False  # a merged leaf is trained on only after a maintainer's /approve on its PR


class ExecutorSection(ConfigModel):
    runs_on: Annotated[tuple[Label, ...], Field(min_length=1, strict=False)] = ("self-hosted", "gpu")  # runner labels


class ReleaseSection(ConfigModel):
    repo_id: Annotated[str, StringConstraints(pattern=REPO_ID)] | None = None  # Hub repo "owner/name"; None: no release
    tag_format: Text100 = "v{date}-{shortsha}"  # {date} = YYYYMMDD, {shortsha} = 7 hex digits
    license: Text100 = "apache-2.0"  # model card licence id
    private: bool = False  # create the Hub repo as private


class RepoConfig(ConfigModel):
    """Everything `.github/arborist.yml` can set. `RepoConfig()` is the documented default."""

    validation: ValidationSection = ValidationSection()
    commands: CommandsSection = CommandsSection()
    generate: GenerateSection = GenerateSection()
    precheck: PrecheckSection = PrecheckSection()
    preview: PreviewSection = PreviewSection()
    retrain: RetrainSection = RetrainSection()
    executor: ExecutorSection = ExecutorSection()
    release: ReleaseSection = ReleaseSection()


SECTIONS: dict[str, type[ConfigModel]] = {name: field.annotation for name, field in RepoConfig.model_fields.items()}  # type: ignore[misc]


def render_config_reference() -> str:
    """A Markdown table of every setting, its type, default and meaning, rendered from the published JSON schema."""
    from schemas import load_schema

    rows = ["| key | type | default | meaning |", "| --- | --- | --- | --- |"]

    def walk(node: dict[str, Any], prefix: str) -> None:
        for key, sub in node.get("properties", {}).items():
            name = f"{prefix}.{key}" if prefix else key
            if sub.get("type") == "object" and "properties" in sub:
                walk(sub, name)
                continue
            kind = sub.get("type") or "one of " + ", ".join(f"`{v}`" for v in sub.get("enum", []))
            kind = " or ".join(kind) if isinstance(kind, list) else kind
            rows.append(f"| `{name}` | {kind} | `{_yaml_inline(sub.get('default'))}` | {sub.get('description', '')} |")

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
