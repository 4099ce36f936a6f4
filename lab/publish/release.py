"""What a release is, as plain data: the facts going in (ReleaseInfo), the record kept in the repo, the result."""

from __future__ import annotations

import json
import re
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime
from typing import Any

from schemas.tag_format import TagFormatError, check_tag_format, render_tag_format

DEFAULT_TAG_FORMAT = "v{date}-{shortsha}"  # e.g. v20261125-1a2b3c4; the same spelling as .github/arborist.yml
RECORD_FILE = "release.json"  # recorded in every release: how re-publishing is detected
RECORD_VERSION = 1
DEFAULT_GGUF_TYPES = ("f16", "Q4_K_M", "Q5_K_M", "Q8_0")  # the quants people run, besides f16
MAX_HISTORY = 200  # releases remembered in release.json
BULKY_EVALUATION_KEYS = ("items",)  # per-question answers stay in the CI artefacts, not in every release
TAG_CHARS = re.compile(r"[^A-Za-z0-9._\-]")


@dataclass(frozen=True)
class LeafChange:
    """One taxonomy leaf that changed since the previous release, and the PR that changed it."""

    path: str
    status: str  # added | modified | removed
    pr_number: int | None = None
    pr_url: str = ""


@dataclass
class ReleaseInfo:
    """Everything the card and the record say about a release; ci.retrain fills it in."""

    taxonomy_repo: str  # "owner/name" or a URL
    taxonomy_sha: str
    previous_taxonomy_sha: str | None = None
    leaves: list[LeafChange] = field(default_factory=list)
    data_counts: dict[str, int] = field(default_factory=dict)  # phase -> samples
    generation_params: dict[str, Any] = field(default_factory=dict)
    training_params: dict[str, Any] = field(default_factory=dict)
    evaluation: dict[str, Any] = field(default_factory=dict)  # `lab evaluate`'s report.json, as is
    attributions: dict[str, str] = field(default_factory=dict)  # leaf path -> attribution.txt text
    base_model: str = ""
    license: str = "apache-2.0"
    tag_format: str = DEFAULT_TAG_FORMAT
    date: datetime | None = None  # release time; now (UTC) when None
    datasets: list[str] = field(default_factory=list)  # public dataset repo ids, if any
    model_name: str = ""  # display name; the repo id when empty
    gguf_types: tuple[str, ...] = DEFAULT_GGUF_TYPES  # on the Hub they go to the `<repo>-GGUF` twin
    check_prompt: str = ""  # every GGUF answers it once; default: the evaluation's first question
    data_dir: str = ""  # `lab generate`'s output folder: published as the `<repo>-data` dataset on the Hub
    include_adapter: bool = False  # ship a LoRA adapter beside the merged weights
    git_host: str = "https://github.com"

    def when(self) -> datetime:
        return self.date or datetime.now(UTC)

    def taxonomy_url(self) -> str:
        repo = self.taxonomy_repo
        return repo if "://" in repo else f"{self.git_host.rstrip('/')}/{repo}"


@dataclass(frozen=True)
class ReleaseResult:
    """What happened: the tag, where to find it, the commit on the target, and whether it was a no-op."""

    tag: str
    url: str
    commit_sha: str
    skipped: bool
    files: tuple[str, ...] = ()
    repos: dict[str, str] = field(default_factory=dict)  # role ("model", "gguf", "data") -> repository
    signed_by: str = ""  # id of the Ed25519 key that signed each release.json; "" = unsigned
    collection: str = ""  # slug of the model line's Hub collection the release was added to

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


class PublishError(RuntimeError):
    """Publishing failed; the previous release is left as it was. The message never holds a token."""


def format_tag(info: ReleaseInfo) -> str:
    """Render the tag format; fields: date (`{date}` = YYYYMMDD, or strftime codes), sha, shortsha.

    Only those fields, as plain strings (schemas.tag_format): a template that reaches for attributes,
    indexes or conversions is refused with the list of fields, never rendered."""
    try:
        tag = render_tag_format(info.tag_format, info.when(), info.taxonomy_sha)
    except TagFormatError as exc:
        raise PublishError(str(exc)) from None
    tag = TAG_CHARS.sub("-", tag).strip("-.")
    if not tag:
        raise PublishError(f"tag_format {info.tag_format!r} renders an empty tag")
    return tag


def headline(evaluation: dict[str, Any]) -> dict[str, Any] | None:
    """The first metric of an evaluation report, as {name, value, ci}, for listings."""
    from lab.publish.evaluation import extract_metrics

    metrics = extract_metrics(evaluation)
    if not metrics:
        return None
    first = metrics[0]
    return {"name": first.name, "value": first.value, "ci": list(first.ci) if first.ci else None}


def record_start(info: ReleaseInfo, tag: str) -> dict[str, Any]:
    """The fields every release.json opens with (the model's and the GGUF repository's): which release of what."""
    return {"version": RECORD_VERSION, "tag": tag, "date": info.when().isoformat(),
            "taxonomy_repo": info.taxonomy_repo, "taxonomy_sha": info.taxonomy_sha}


def record_history(previous: dict[str, Any] | None, keys: tuple[str, ...]) -> list[dict[str, Any]]:
    """The earlier releases a release.json lists, newest first: `previous` itself (its `keys`), then its history."""
    history = list((previous or {}).get("history") or [])
    if previous and previous.get("tag"):
        history.insert(0, {k: previous.get(k) for k in keys})
    return history


def build_record(info: ReleaseInfo, tag: str, previous: dict[str, Any] | None, files: list[str]) -> dict[str, Any]:
    """The release.json of this release: its facts, plus the history of earlier ones (for idempotence)."""
    history = record_history(previous, ("tag", "taxonomy_sha", "date", "headline"))
    return {
        **record_start(info, tag),
        "previous_taxonomy_sha": info.previous_taxonomy_sha,
        "base_model": info.base_model,
        "data_counts": dict(info.data_counts),
        "headline": headline(info.evaluation),
        "evaluation": {k: v for k, v in info.evaluation.items() if k not in BULKY_EVALUATION_KEYS},
        "leaves": [asdict(leaf) for leaf in info.leaves],
        "files": sorted(files),
        "history": history[:MAX_HISTORY],
    }


def already_released(previous: dict[str, Any] | None, taxonomy_sha: str) -> str | None:
    """The tag of an earlier release of the same taxonomy commit, if any."""
    if not previous:
        return None
    for entry in [previous, *(previous.get("history") or [])]:
        if entry.get("taxonomy_sha") == taxonomy_sha:
            return str(entry.get("tag") or "")
    return None


def record_bytes(record: dict[str, Any]) -> bytes:
    return (json.dumps(record, indent=2, sort_keys=True, default=str) + "\n").encode()


def info_from_dict(data: dict[str, Any]) -> ReleaseInfo:
    """Build ReleaseInfo from JSON (a file written by ci.retrain or by hand); unknown keys are refused."""
    known = set(ReleaseInfo.__dataclass_fields__)
    unknown = sorted(set(data) - known)
    if unknown:
        raise ValueError(f"unknown release info keys: {', '.join(unknown)}")
    values = dict(data)
    if not values.get("taxonomy_repo") or not values.get("taxonomy_sha"):
        raise ValueError("release info needs taxonomy_repo and taxonomy_sha")
    values["leaves"] = [LeafChange(**leaf) if isinstance(leaf, dict) else leaf for leaf in values.get("leaves") or []]
    if isinstance(values.get("date"), str):
        values["date"] = datetime.fromisoformat(values["date"])
    if "tag_format" in values:
        check_tag_format(values["tag_format"])  # a TagFormatError is a ValueError: `lab publish` exits 2
    if "gguf_types" in values:
        from lab.models.quantize import QuantError, canonical

        try:
            values["gguf_types"] = tuple(canonical(str(t)) for t in values["gguf_types"])
        except QuantError as exc:
            raise ValueError(str(exc)) from None
    return ReleaseInfo(**values)
