"""publish_release: stage, describe, and send one commit + one tag per repository, or nothing if already released."""

from __future__ import annotations

import hashlib
import json
import logging
import re
import tempfile
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

from lab.consume.verify import checksums
from lab.models.quantize import QuantError
from lab.publish.artifacts import stage_release
from lab.publish.card import render_card
from lab.publish.collection import add_release, release_note
from lab.publish.data_card import (
    RAI_FILE,
    DataError,
    data_files,
    data_record,
    data_repo_id,
    rai_fields,
    read_manifest,
    render_data_card,
)
from lab.publish.gguf_card import gguf_record, gguf_repo_id, render_gguf_card
from lab.publish.operations import plan_operations
from lab.publish.quants import check_prompt
from lab.publish.release import (
    RECORD_FILE,
    PublishError,
    ReleaseInfo,
    ReleaseResult,
    already_released,
    build_record,
    format_tag,
    headline,
    record_bytes,
)
from lab.publish.signing import (
    ALGORITHM,
    KEY_ENV,
    SIG_FILE,
    SignatureError,
    load_private_key,
    public_key_id,
    sign,
)
from lab.publish.targets import DirectoryTarget, HubTarget, Target, TargetState
from schemas.masking import known_secrets, mask

log = logging.getLogger("lab.publish")
DIRECTORY_SOURCE = "RELEASES_FOLDER"  # how a `--dir` release's card names its folder: the local path is private


def redact(text: str, secrets: list[str]) -> str:
    """Replace `secrets` and every secret the process knows (schemas.masking: one masker for all output)."""
    return mask(text, [*secrets, *known_secrets()])


def _secrets(target: Target) -> list[str]:
    """The target's own token; the environment's (HF_TOKEN, HUGGING_FACE_HUB_TOKEN, ...) are in known_secrets()."""
    token = getattr(getattr(target, "api", None), "token", None)
    return [token] if isinstance(token, str) and token else []


def release_name(target: Target, info: ReleaseInfo) -> str:
    """The model's name in file names and the card: --model-name, else the Hub repo id, else the taxonomy's
    name + "-model". Never a local path: a `--dir` release must not be named after the folder it lands in."""
    if info.model_name:
        return info.model_name
    if isinstance(target, HubTarget):
        return target.repo_id
    return f"{info.taxonomy_repo.rstrip('/').rsplit('/', 1)[-1] or 'taxonomy'}-model"


def _stem(name: str) -> str:
    stem = re.sub(r"[^A-Za-z0-9._-]", "-", name.rstrip("/").rsplit("/", 1)[-1]).strip("-.")
    return stem or "model"


def _commit_text(info: ReleaseInfo, tag: str) -> tuple[str, str]:
    title = f"Release {tag}: taxonomy {info.taxonomy_sha[:12]}"
    lines = [f"Taxonomy: {info.taxonomy_repo}@{info.taxonomy_sha}"]
    if info.previous_taxonomy_sha:
        lines.append(f"Since: {info.previous_taxonomy_sha}")
    lines += [f"- {leaf.status} {leaf.path}" + (f" (#{leaf.pr_number})" if leaf.pr_number else "")
              for leaf in info.leaves[:100]]
    return title, "\n".join(lines)


@dataclass
class Part:
    """One repository's share of a release: the model repo, its `-GGUF` twin, or its `-data` dataset."""

    role: str  # "model" | "gguf" | "data"
    target: Target
    state: TargetState
    files: dict[str, Path | bytes] = field(default_factory=dict)
    commit: str | None = None  # the release commit, once it is on the target


def _targets(target: Target, info: ReleaseInfo) -> list[tuple[str, Target]]:
    """The repositories of a release, in upload order: the model repo last, so that its `main` (what
    `lab pull` reads as latest) moves only when every other part is up. A directory holds everything."""
    if not isinstance(target, HubTarget):
        return [("model", target)]
    out: list[tuple[str, Target]] = []
    if info.gguf_types:
        out.append(("gguf", HubTarget(gguf_repo_id(target.repo_id), target.api, target.private)))
    if info.data_dir:
        out.append(("data", HubTarget(data_repo_id(target.repo_id), target.api, target.private, "dataset")))
    return [*out, ("model", target)]


def _read_state(role: str, target: Target, secrets: list[str]) -> Part:
    try:
        return Part(role, target, target.state())
    except Exception as exc:
        raise PublishError(redact(f"cannot read {target.name()}: {exc}", secrets)) from None


def _result(parts: list[Part], tag: str, skipped: bool) -> ReleaseResult:
    model = parts[-1]
    files = tuple(sorted(model.files or model.state.files))
    return ReleaseResult(tag, model.target.url(tag), model.commit or model.state.tags.get(tag, ""), skipped, files,
                         {p.role: p.target.name() for p in parts})


def _finish(parts: list[Part], done: str, secrets: list[str]) -> ReleaseResult | None:
    """The taxonomy commit was released (or committed everywhere, not yet tagged) as `done`: tag what is left."""
    model = parts[-1]
    if done not in model.state.tags and (model.state.record or {}).get("tag") != done:
        return None
    skipped = True
    for part in parts:
        part.commit = part.state.tags.get(done)
        if part.commit is None and part.state.head and (part.state.record or {}).get("tag") == done:
            _tag(part.target, done, part.state.head, f"Release {done}", secrets)  # an earlier run could not tag
            part.commit, skipped = part.state.head, False
    if skipped:
        log.info("taxonomy commit is already released as %s: nothing to do", done)
    return _result(parts, done, skipped)


def _pending(part: Part, info: ReleaseInfo, tag: str) -> str | None:
    """The head commit when an earlier run already uploaded this part of the release (tagging failed later)."""
    record = part.state.record or {}
    if part.state.head and record.get("tag") == tag and record.get("taxonomy_sha") == info.taxonomy_sha:
        return part.state.tags.get(tag, part.state.head)
    if tag in part.state.tags:
        raise PublishError(f"tag {tag} already names another release on {part.target.name()}; "
                           "change tag_format (e.g. add {sha})")
    return None


def publish_release(model_dir: str | Path, target: HubTarget | DirectoryTarget, info: ReleaseInfo) -> ReleaseResult:
    """Publish `model_dir` as the release of `info.taxonomy_sha` on `target` (and its `-GGUF` twin on the Hub).

    Idempotent: a taxonomy commit that was released before returns `skipped=True` and changes
    nothing. Atomic per repository, and ordered across them: every part is uploaded (the model repo
    last), then every part is tagged (the model repo last). A failure leaves every earlier release as it
    was and raises a PublishError (tokens redacted); publishing again finishes without uploading twice.
    """
    secrets = _secrets(target)
    tag = format_tag(info)
    signer = _signer()
    parts = [_read_state(role, t, secrets) for role, t in _targets(target, info)]
    done = already_released(parts[-1].state.record, info.taxonomy_sha)
    if done:
        finished = _finish(parts, done, secrets)
        if finished is not None:
            return replace(finished, collection=_collect(parts, done, info, secrets))
    if tag in parts[-1].state.tags:
        raise PublishError(f"tag {tag} already names another release on {parts[-1].target.name()}; "
                           "change tag_format (e.g. add {sha})")
    for part in parts[:-1]:
        part.commit = _pending(part, info, tag)
    title, description = _commit_text(info, tag)
    with tempfile.TemporaryDirectory(prefix="arborist-release-") as tmp:
        log.info("staging release %s from %s", tag, model_dir)
        try:
            _stage(parts, Path(model_dir), Path(tmp), info, tag, signer)
        except QuantError as exc:
            raise PublishError(f"nothing was uploaded: {exc}") from None
        for part in parts:
            if part.commit is None:
                part.commit = _upload(part, title, description, secrets)
    for part in parts:
        if tag not in part.state.tags:
            _tag(part.target, tag, part.commit or "", title, secrets)
    log.info("released %s at %s (%s)", tag, target.url(tag),
             f"signed, key {public_key_id(signer)}" if signer else "unsigned")
    return replace(_result(parts, tag, False), signed_by=public_key_id(signer) if signer else "",
                   collection=_collect(parts, tag, info, secrets))


def _collect(parts: list[Part], tag: str, info: ReleaseInfo, secrets: list[str]) -> str:
    """Add the release to its model line's Hub collection; the slug, or "" (a directory, or a failure, which
    is logged: the release itself is already complete)."""
    model = parts[-1].target
    if not isinstance(model, HubTarget):
        return ""
    top = headline(info.evaluation)
    note = release_note(tag, info.taxonomy_sha, f"{top['name']} {top['value']:.3f}" if top else "")
    try:
        return add_release(model.api, model.repo_id, {p.role: p.target.name() for p in parts}, note, model.private)
    except Exception as exc:  # noqa: BLE001 - the release is published; the collection is a listing of it
        log.warning("%s", redact(f"release {tag} is published, but adding it to its collection failed: {exc}",
                                 secrets))
        return ""


def _signer() -> Any | None:
    """The Ed25519 key from settings, or None: the release then publishes and says it is unsigned."""
    try:
        key = load_private_key()
    except SignatureError as exc:
        raise PublishError(f"nothing was uploaded: {exc}") from None
    if key is None:
        log.warning("this release will be unsigned: set %s to an Ed25519 private key to sign it", KEY_ENV)
    return key


def _stage(parts: list[Part], model_dir: Path, tmp: Path, info: ReleaseInfo, tag: str, signer: Any | None) -> None:
    """Fill each part's files: weights, card and record for the model repo; GGUFs, data, their cards and records."""
    model = parts[-1]
    repo = model.target.name()
    data = next((p for p in parts if p.role == "data"), None)
    if data is not None:
        info = replace(info, datasets=[*info.datasets, data.target.name()])
        if data.commit is None:
            _stage_data(data, info, tag, repo, signer)
    name = release_name(model.target, info)
    prompt = check_prompt(info.check_prompt, info.evaluation)
    weights, ggufs = stage_release(model_dir, tmp, _stem(name), info.gguf_types, info.include_adapter, prompt)
    files: dict[str, Path | bytes] = dict(weights)
    twin = next((p for p in parts if p.role == "gguf"), None)
    gguf_files = {f.name: f.path for f in ggufs.files}
    if twin is None:
        files.update(gguf_files)
    elif twin.commit is None:
        card = render_gguf_card(info, tag, repo, twin.target.name(), ggufs, _endpoint(model.target))
        twin.files = {**gguf_files, "README.md": card.encode()}
        record = gguf_record(info, tag, repo, ggufs, twin.state.record)
        _seal(twin, record, signer)
    names = sorted([*files, "README.md", RECORD_FILE])
    source = model.target.repo_id if isinstance(model.target, HubTarget) else DIRECTORY_SOURCE
    files["README.md"] = render_card(replace(info, model_name=name), tag, source, names, previous=model.state.record,
                                     ggufs=ggufs, gguf_repo=twin.target.name() if twin else "").encode()
    model.files = files
    record = build_record(info, tag, model.state.record, names)
    record["quants"] = [f.to_record() for f in ggufs.files]
    record.update({p.role + "_repo": p.target.name() for p in parts if p is not model})
    _seal(model, record, signer)


def _stage_data(part: Part, info: ReleaseInfo, tag: str, model_repo: str, signer: Any | None) -> None:
    """The dataset repository's files: the generated data, its card, the Croissant RAI fields, the record."""
    folder = Path(info.data_dir)
    try:
        manifest = read_manifest(folder)
    except DataError as exc:
        raise PublishError(f"nothing was uploaded: {exc}") from None
    versions = {"arborist": _version(), "manifest version": str(manifest.get("version", "unknown"))}
    part.files = {**data_files(folder),
                  "README.md": render_data_card(info, tag, model_repo, manifest, versions).encode(),
                  RAI_FILE: (json.dumps(rai_fields(manifest), indent=2) + "\n").encode()}
    _seal(part, data_record(info, tag, model_repo, manifest, part.state.record), signer)


def _version() -> str:
    from importlib.metadata import PackageNotFoundError, version

    try:
        return version("arborist")
    except PackageNotFoundError:
        return "unknown"


def _seal(part: Part, record: dict[str, Any], signer: Any | None) -> None:
    """Add release.json to a part (its record, the file list, every other file's size and sha256), and its
    signature when there is a key."""
    record["files"] = sorted([*part.files, RECORD_FILE, *([SIG_FILE] if signer else [])])
    record["checksums"] = _checksums(part.files)
    record["signature"] = {"algorithm": ALGORITHM, "key_id": public_key_id(signer), "file": SIG_FILE} \
        if signer else None
    data = record_bytes(record)
    part.files[RECORD_FILE] = data
    if signer is not None:
        part.files[SIG_FILE] = sign(data, signer)


def _checksums(files: dict[str, Path | bytes]) -> dict[str, dict[str, Any]]:
    """release.json's {path: {size, sha256}} for every file of the commit but release.json itself."""
    listed = checksums({n: p for n, p in files.items() if isinstance(p, Path)})
    for name, data in files.items():
        if isinstance(data, bytes):
            listed[name] = {"size": len(data), "sha256": hashlib.sha256(data).hexdigest()}
    return dict(sorted(listed.items()))


def _endpoint(target: Target) -> str:
    api = getattr(target, "api", None)
    return str(getattr(api, "endpoint", "") or "https://huggingface.co")


def _upload(part: Part, title: str, description: str, secrets: list[str]) -> str:
    operations = plan_operations(part.files, part.state.files)
    log.info("sending one commit of %d operations to %s", len(operations), part.target.name())
    try:
        return part.target.commit(operations, title, description, part.state.head)
    except Exception as exc:
        raise PublishError(redact(f"upload to {part.target.name()} failed, previous release left as it was: "
                                  f"{exc}", secrets)) from None


def _tag(target: Target, tag: str, commit: str, message: str, secrets: list[str]) -> None:
    try:
        target.tag(tag, commit, message)
    except Exception as exc:
        raise PublishError(redact(f"commit {commit} is on {target.name()} but tagging {tag} failed "
                                  f"(publish again to finish): {exc}", secrets)) from None
