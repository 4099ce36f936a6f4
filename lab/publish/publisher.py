"""publish_release: stage, describe, and send one commit + one tag, or nothing if already released."""

from __future__ import annotations

import logging
import os
import re
import tempfile
from dataclasses import replace
from pathlib import Path

from lab.consume.verify import checksums
from lab.publish.artifacts import stage_release
from lab.publish.card import render_card
from lab.publish.operations import plan_operations
from lab.publish.release import (
    RECORD_FILE,
    PublishError,
    ReleaseInfo,
    ReleaseResult,
    already_released,
    build_record,
    format_tag,
    record_bytes,
)
from lab.publish.targets import DirectoryTarget, HubTarget, Target
from schemas.masking import known_secrets, mask

log = logging.getLogger("lab.publish")
TOKEN_ENV = ("HF_TOKEN", "HUGGING_FACE_HUB_TOKEN")
DIRECTORY_SOURCE = "RELEASES_FOLDER"  # how a `--dir` release's card names its folder: the local path is private


def redact(text: str, secrets: list[str]) -> str:
    """Replace `secrets` and every secret the process knows (schemas.masking: one masker for all output)."""
    return mask(text, [*secrets, *known_secrets()])


def _secrets(target: Target) -> list[str]:
    found = [os.environ.get(name, "") for name in TOKEN_ENV]
    api = getattr(target, "api", None)
    token = getattr(api, "token", None)
    if isinstance(token, str):
        found.append(token)
    return [s for s in found if s]


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


def publish_release(model_dir: str | Path, target: HubTarget | DirectoryTarget, info: ReleaseInfo) -> ReleaseResult:
    """Publish `model_dir` as the release of `info.taxonomy_sha` on `target`.

    Idempotent: a taxonomy commit that was released before returns `skipped=True` and changes
    nothing. Atomic: the release is one commit; if it fails, the previous release is untouched and
    a PublishError (with any token redacted) says why.
    """
    secrets = _secrets(target)
    tag = format_tag(info)
    try:
        state = target.state()
    except Exception as exc:
        raise PublishError(redact(f"cannot read {target.name()}: {exc}", secrets)) from None

    done = already_released(state.record, info.taxonomy_sha)
    if done:
        if done in state.tags:
            log.info("taxonomy %s is already released as %s: nothing to do", info.taxonomy_sha[:12], done)
            return ReleaseResult(done, target.url(done), state.tags[done], True, tuple(sorted(state.files)))
        if state.head and (state.record or {}).get("tag") == done:
            # An earlier run committed but could not tag: finish it rather than commit again.
            _tag(target, done, state.head, f"Release {done}", secrets)
            return ReleaseResult(done, target.url(done), state.head, False, tuple(sorted(state.files)))
    if tag in state.tags:
        raise PublishError(f"tag {tag} already names another release on {target.name()}; "
                           "change tag_format (e.g. add {sha})")

    with tempfile.TemporaryDirectory(prefix="arborist-release-") as tmp:
        log.info("staging release %s from %s", tag, model_dir)
        name = release_name(target, info)
        files: dict[str, Path | bytes] = dict(stage_release(
            model_dir, Path(tmp), _stem(name), info.gguf_types, info.include_adapter))
        names = sorted([*files, "README.md", RECORD_FILE])
        record = build_record(info, tag, state.record, names)
        record["checksums"] = checksums({n: p for n, p in files.items() if isinstance(p, Path)})
        source = target.repo_id if isinstance(target, HubTarget) else DIRECTORY_SOURCE
        files["README.md"] = render_card(replace(info, model_name=name), tag, source, names,
                                         previous=state.record).encode()
        files[RECORD_FILE] = record_bytes(record)
        operations = plan_operations(files, state.files)
        title, description = _commit_text(info, tag)
        log.info("sending one commit of %d operations to %s", len(operations), target.name())
        try:
            commit = target.commit(operations, title, description, state.head)
        except Exception as exc:
            raise PublishError(redact(f"upload to {target.name()} failed, previous release left as it was: "
                                      f"{exc}", secrets)) from None
    _tag(target, tag, commit, title, secrets)
    log.info("released %s at %s", tag, target.url(tag))
    return ReleaseResult(tag, target.url(tag), commit, False, tuple(names))


def _tag(target: Target, tag: str, commit: str, message: str, secrets: list[str]) -> None:
    try:
        target.tag(tag, commit, message)
    except Exception as exc:
        raise PublishError(redact(f"commit {commit} is on {target.name()} but tagging {tag} failed "
                                  f"(publish again to finish): {exc}", secrets)) from None
