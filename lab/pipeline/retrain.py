"""The retrain, composed: validate -> generate -> train -> evaluate -> gate -> publish, each a function
that takes the previous step's typed result and returns its own.

The edges stay outside: whoever runs it (ci.retrain on a runner) checks the taxonomy out, builds the
release target and the clients, and passes `Edges` for progress, the git history and the announcement.
Every step's state lives under `request.work`, so a run killed at any point continues when it is run again.
"""

from __future__ import annotations

import shutil
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any, Protocol

from lab.pipeline.results import EvalReport, Release, RetrainFailed, RetrainResult, TrainSummary
from lab.publish.release import LeafChange, ReleaseInfo, ReleaseResult
from schemas.datacontract import HELDOUT_FILE

if TYPE_CHECKING:
    from lab.publish.targets import DirectoryTarget, HubTarget
    from lab.train.config import TrainConfig

BASELINE_PATTERNS = ["*.json", "*.safetensors", "*.jinja", "*.txt", "*.model"]
MAX_ATTRIBUTION_CHARS = 4000
REPORT_FILE = "report.json"


@dataclass(frozen=True)
class RetrainRequest:
    """One retrain: the checked-out taxonomy, the models, and what the repository configures."""

    repo: str  # owner/name of the taxonomy
    sha: str  # the commit trained on
    tree: Path  # its checkout (held-back leaves already restored)
    work: Path  # the run's folder: data/, train/, report.json
    base_model: str  # the student: a model dir, GGUF or Hub repo id
    teacher: str  # the generation backend spec
    samples: int  # generated samples per seed example
    seed: int
    train_config: TrainConfig
    min_effect: float = 0.01  # the gate: smallest mean ROUGE-L change that counts
    allow_regression: bool = False
    license: str = "apache-2.0"
    tag_format: str = "v{date}-{shortsha}"
    cache_dir: Path | None = None  # generated rows reused per leaf
    held_paths: frozenset[str] = field(default_factory=frozenset)  # leaves held back for approval


@dataclass(frozen=True)
class History:
    """What git says of the commits since the last release: its PRs, each leaf's PR, and leaf changes."""

    prs: tuple[int, ...]
    by_leaf: dict[str, int]  # qna.yaml path -> the PR that last changed it
    changes: tuple[tuple[str, str], ...]  # (path, added | modified | removed)


class Edges(Protocol):
    """The runner's side: progress lines, the git history, and telling the PRs about a release."""

    def progress(self, message: str, fraction: float) -> None: ...
    def log(self, line: str) -> None: ...
    def history(self, since: str | None) -> History: ...
    def announce(self, info: ReleaseInfo, result: ReleaseResult) -> tuple[int, ...] | None: ...


def validate(request: RetrainRequest, edges: Edges) -> list[str]:
    """Every leaf of the tree, all valid; a RetrainFailed names the invalid ones."""
    from lab.taxonomy import validate_paths
    from lab.taxonomy.discover import find_leaves
    from lab.taxonomy.render import to_text

    leaves = find_leaves(request.tree)
    edges.progress(f"validating {len(leaves)} leaves", 0.03)
    invalid = [r for r in validate_paths([request.tree / p for p in leaves], root=request.tree) if not r.valid]
    if invalid:
        raise RetrainFailed(f"{len(invalid)} leaf file(s) are invalid; nothing was trained",
                            "Fix these first (`lab validate` shows the same):\n\n```\n" + to_text(invalid) + "\n```")
    if not leaves:
        raise RetrainFailed("the taxonomy has no leaves", "There is nothing to train on.")
    if not request.teacher or not request.base_model:
        raise RetrainFailed("retraining is not configured", "Set the teacher (`generate.teacher` or ARBORIST_TEACHER) "
                            "and the student (ARBORIST_BASE_MODEL) on the runner.")
    return leaves


class _GenerateProgress:
    """lab.generate's progress protocol, as the runner's progress lines (5% .. 35% of the run)."""

    def __init__(self, edges: Edges, total: int) -> None:
        self.edges, self.total, self.done = edges, total, 0

    def leaf_started(self, leaf_id: str, total: int) -> None:
        self.edges.progress(f"generating {leaf_id} ({self.done + 1}/{self.total})", 0.05 + 0.3 * self.done / self.total)

    def advance(self, n: int = 1) -> None:
        pass

    def leaf_finished(self, result: Any) -> None:
        self.done += 1


def generate(request: RetrainRequest, leaves: list[str], edges: Edges) -> Path:
    """Synthetic data for every leaf (cached per leaf); the data folder train reads."""
    from lab.generate import GenerateParams
    from lab.generate.backends import close_backend
    from lab.generate.fanout import generate_with, load_teacher
    from lab.generate.leaves import read_leaf

    data = request.work / "data"
    teacher = load_teacher(request.teacher)  # several comma-separated URLs: replicas, the leaves fan out
    try:
        manifest = generate_with(teacher, [read_leaf(request.tree / p, request.tree) for p in leaves], data,
                                 GenerateParams(samples=request.samples, seed=request.seed),
                                 cache_dir=request.cache_dir, progress=_GenerateProgress(edges, len(leaves)))
    finally:
        close_backend(teacher)
    if manifest.rows == 0:
        raise RetrainFailed("generation produced no data", "Every leaf ended without rows; see the job log.")
    for replica in manifest.replicas:  # fanned out: what each teacher replica did, and all together
        edges.log(f"teacher replica {replica['replica']}: {replica['leaves']} leaves, {replica['requests']} requests, "
                  f"{replica['completion_tokens_per_s']} completion tokens/s")
    return data


def train_model(request: RetrainRequest, data: Path, edges: Edges) -> TrainSummary:
    """Train (resuming a killed run of the same data); data that changed under a killed run starts over."""
    from lab.train.ray_train import train_where_configured  # on Ray Train workers when the deployment asks
    from lab.train.trainer import RunOptions

    out = request.work / "train"
    resume = (out / "run.json").is_file()
    edges.progress("training" + (" (resuming)" if resume else ""), 0.35)
    try:
        summary = train_where_configured(data, request.base_model, out, request.train_config,
                                         RunOptions(resume=resume, progress=False, log=edges.log))
    except ValueError as exc:
        if not resume or "different" not in str(exc):
            raise RetrainFailed("training failed", str(exc)) from None
        shutil.rmtree(out)  # the data changed under a killed run: start over rather than mix
        summary = train_where_configured(data, request.base_model, out, request.train_config,
                                         RunOptions(progress=False, log=edges.log))
    except MemoryError as exc:
        raise RetrainFailed("training does not fit on this runner", str(exc)) from None
    return TrainSummary.from_dict(summary)


def last_release(target: HubTarget | DirectoryTarget | None, dest: Path) -> tuple[dict[str, Any] | None, str | None]:
    """The previous release's record and a local copy of its model, if there is one."""
    if target is None:
        return None, None
    state = target.state()
    if not state.head or not state.record:
        return None, None
    from lab.publish.targets import HubTarget

    if isinstance(target, HubTarget):
        local = target.api.snapshot_download(target.repo_id, revision=state.head, allow_patterns=BASELINE_PATTERNS,
                                             local_dir=str(dest))
        return state.record, str(local)
    folder = Path(str(target.path)) / "releases" / state.head
    return state.record, str(folder) if (folder / "config.json").is_file() else None


def evaluate_model(request: RetrainRequest, summary: TrainSummary, baseline: str | None,
                   baseline_name: str) -> EvalReport:
    """The new model against the baseline on every leaf's seed questions; the gate decides. Writes report.json."""
    from lab.evaluate.runner import EvalOptions, evaluate, write_report

    options = EvalOptions(min_effect=request.min_effect, allow_regression=request.allow_regression,
                          heldout=str(request.work / "train" / HELDOUT_FILE), progress=False)
    report = evaluate(str(summary.final), request.tree, baseline or request.base_model, options, log=lambda s: None)
    report["baseline_kind"] = baseline_name
    write_report(report, request.work / REPORT_FILE)
    return EvalReport.from_dict(report)


def attributions(tree: Path, leaves: list[str]) -> dict[str, str]:
    """Each leaf's attribution.txt (bounded), for the model card."""
    out = {}
    for leaf in leaves:
        path = tree / leaf.rsplit("/", 1)[0] / "attribution.txt"
        if path.is_file() and not path.is_symlink():
            out[leaf] = path.read_text(encoding="utf-8", errors="replace")[:MAX_ATTRIBUTION_CHARS]
    return out


def release_info(request: RetrainRequest, leaves: list[str], summary: TrainSummary, report: EvalReport,
                 history: History, previous_sha: str | None) -> ReleaseInfo:
    """Everything the record and the card say of this release."""
    url = f"https://github.com/{request.repo}/pull/"
    changes = [LeafChange(p, status, history.by_leaf.get(p), f"{url}{history.by_leaf[p]}" if p in history.by_leaf else "")
               for p, status in history.changes if p not in request.held_paths]
    return ReleaseInfo(
        taxonomy_repo=request.repo, taxonomy_sha=request.sha, previous_taxonomy_sha=previous_sha, leaves=changes,
        data_counts=summary.data_counts(), generation_params={"teacher": request.teacher, "samples": request.samples},
        training_params=summary.config, evaluation=report.to_dict(), attributions=attributions(request.tree, leaves),
        base_model=request.base_model, license=request.license, tag_format=request.tag_format,
        data_dir=str(request.work / "data"))


def publish(target: HubTarget | DirectoryTarget, summary: TrainSummary, info: ReleaseInfo, edges: Edges) -> Release:
    """Publish the model (idempotent per taxonomy commit) and tell the release's PRs."""
    from lab.publish.publisher import publish_release
    from lab.publish.release import PublishError

    edges.progress(f"publishing to {target.name()}", 0.9)
    try:
        published = publish_release(summary.final, target, info)
    except PublishError as exc:
        raise RetrainFailed("publishing failed", str(exc)) from None
    return Release(published, edges.announce(info, published))


def retrain(request: RetrainRequest, target: HubTarget | DirectoryTarget | None, edges: Edges) -> RetrainResult:
    """The whole pipeline; raises RetrainFailed where a step cannot go on. The gate's block is a result."""
    leaves = validate(request, edges)
    data = generate(request, leaves, edges)
    summary = train_model(request, data, edges)
    edges.progress("evaluating against the last release", 0.8)
    try:
        record, baseline = last_release(target, request.work / "baseline")
    except Exception as exc:  # noqa: BLE001 - an unreachable target must not hide the evaluation
        raise RetrainFailed("could not read the last release", str(exc)) from None
    baseline_name = f"release {record.get('tag')}" if record and baseline else "the base model"
    report = evaluate_model(request, summary, baseline, baseline_name)
    previous_sha = (record or {}).get("taxonomy_sha")
    history = edges.history(previous_sha)
    release = None
    if report.gate.passed and target is not None:
        info = release_info(request, leaves, summary, report, history, previous_sha)
        release = publish(target, summary, info, edges)
    return RetrainResult(report, release, history.prs, dict(history.by_leaf))

