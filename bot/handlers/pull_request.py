"""Validate a taxonomy PR: one check run with line annotations, one living comment, and labels.

Runs on pull_request opened / synchronize / reopened / ready_for_review. Files are read at the
head SHA as data (nothing from a PR is executed); the repository config comes from the base branch.
"""

from __future__ import annotations

import logging
import posixpath
from collections.abc import Callable, Mapping
from typing import Any, Protocol

from bot.context import Context, Event, LoadedConfig
from bot.render.validation import (
    CHECK_NAME,
    COMMENT_MARKER,
    annotations_for,
    batches,
    check_output,
    comment_body,
    conclusion_for,
)
from bot.router import Router
from lab.github.protocol import (
    CheckRunOutput,
    ChecksClient,
    CommentsClient,
    ContentsClient,
    LabelsClient,
    PullRequest,
    PullsClient,
)

router = Router()  # this module's routes; bot.routes merges them at start-up

MAX_TAXONOMY_FILES = 300  # per PR; beyond this the check asks for a smaller PR instead of reading them all
ATTRIBUTION = "attribution.txt"
TAXONOMY_FILE = "qna.yaml"
LOG = logging.getLogger("arborist.validation")


class ValidationClient(PullsClient, ContentsClient, ChecksClient, CommentsClient, LabelsClient, Protocol):
    """What validating a pull request asks of GitHub: its files, their contents, a check run, one comment, labels."""


def _taxonomy_api() -> tuple[Callable[..., Any], Callable[[str], bool], Callable[[str], str | None], Any]:
    """lab.taxonomy's validate_files, is_taxonomy_file, label_for and ValidationConfig (imported late)."""
    import lab.taxonomy as taxonomy
    from lab.taxonomy import paths

    return taxonomy.validate_files, paths.is_taxonomy_file, paths.label_for, taxonomy.ValidationConfig


def _pull_from_payload(event: Event, pulls: PullsClient) -> PullRequest:
    pr = event.payload.get("pull_request")
    try:
        assert isinstance(pr, Mapping)
        return PullRequest(number=int(pr["number"]), state=str(pr["state"]), head_sha=str(pr["head"]["sha"]),
                           head_ref=str(pr["head"]["ref"]), base_ref=str(pr["base"]["ref"]),
                           base_sha=str(pr["base"]["sha"]), author=str(pr["user"]["login"]),
                           draft=bool(pr.get("draft")))
    except (AssertionError, KeyError, TypeError, ValueError):
        number = event.payload.get("number")
        if not isinstance(number, int):
            raise ValueError("pull_request payload without a PR number") from None
        return pulls.get_pull(event.repo, number)


def taxonomy_paths(changed: list[tuple[str, str]], is_taxonomy_file: Callable[[str], bool]) -> list[str]:
    """Changed taxonomy files to validate, sorted; an edited attribution.txt re-checks its qna.yaml."""
    out: set[str] = set()
    for path, status in changed:
        if status == "removed":
            continue
        if is_taxonomy_file(path):
            out.add(path)
        elif posixpath.basename(path) == ATTRIBUTION:
            sibling = posixpath.join(posixpath.dirname(path), TAXONOMY_FILE)
            if is_taxonomy_file(sibling):
                out.add(sibling)
    return sorted(out)


@router.register("pull_request", action="opened")
@router.register("pull_request", action="synchronize")
@router.register("pull_request", action="reopened")
@router.register("pull_request", action="ready_for_review")
def on_pull_request(event: Event, ctx: Context) -> None:
    """Validate the PR's changed taxonomy files at its head and report on GitHub."""
    _validate_if_open(ctx, event.repo, _pull_from_payload(event, ctx.github), event.delivery_id)


@router.register("check_run", action="rerequested")
def on_check_rerequested(event: Event, ctx: Context) -> None:
    """Someone pressed "Re-run" on our check: validate the PR again if that SHA is still its head."""
    run = event.payload.get("check_run")
    if not isinstance(run, Mapping) or run.get("name") != CHECK_NAME:
        return
    for ref in run.get("pull_requests") or []:  # empty for PRs from forks: GitHub does not say which
        number = ref.get("number") if isinstance(ref, Mapping) else None
        if not isinstance(number, int):
            continue
        pull = ctx.github.get_pull(event.repo, number)
        if pull.head_sha == run.get("head_sha"):
            _validate_if_open(ctx, event.repo, pull, event.delivery_id)
        else:
            ctx.log.info("%s#%d: re-run asked for %s, but the head is now %s", event.repo, number,
                         str(run.get("head_sha"))[:7], pull.head_sha[:7])


def _validate_if_open(ctx: Context, repo: str, pull: PullRequest, delivery_id: str) -> None:
    """Validate an open PR with the config of its base branch; a closed one is left alone."""
    if pull.state != "open":
        ctx.log.info("%s#%d is %s: not validating", repo, pull.number, pull.state)
        return
    validate_pull(ctx.github, ctx.repo_config(repo, pull.base_ref), repo, pull, delivery_id, ctx.log)


def validate_pull(gh: ValidationClient, loaded: LoadedConfig, repo: str, pull: PullRequest, delivery_id: str,
                  log: logging.Logger = LOG) -> None:
    """The validation itself: check run, annotations in batches, the living comment, labels."""
    validate_files, is_taxonomy_file, label_for, validation_config = _taxonomy_api()
    problems = list(loaded.problems)
    check = gh.create_check_run(repo, CHECK_NAME, pull.head_sha, "in_progress",
                                output=CheckRunOutput("Validating taxonomy files…", "Reading the changed files."),
                                external_id=delivery_id)
    try:
        changed = [(f.filename, f.status) for f in gh.list_pull_files(repo, pull.number)]
        paths = taxonomy_paths(changed, is_taxonomy_file)
        if len(paths) > MAX_TAXONOMY_FILES:
            problems.append(f"this PR changes {len(paths)} taxonomy files; only the first "
                            f"{MAX_TAXONOMY_FILES} were checked: please split it into smaller PRs")
            paths = paths[:MAX_TAXONOMY_FILES]
        cache: dict[str, bytes | None] = {}

        def read(path: str) -> bytes | None:
            if path not in cache:
                cache[path] = gh.get_file(repo, path, pull.head_sha)
            return cache[path]

        try:
            config = validation_config.from_mapping(loaded.config.validation.as_mapping())
        except ValueError as exc:
            problems.append(f"validation settings ignored: {exc}")
            config = None
        reports = validate_files(paths, read, config=config) if paths else []
    except Exception:
        gh.update_check_run(repo, check.id, conclusion="neutral", output=CheckRunOutput(
            "Arborist could not finish", "An internal error stopped validation; a maintainer can re-run it."))
        raise
    conclusion = conclusion_for(reports)
    parts = batches(annotations_for(reports))
    for part in parts[:-1]:  # GitHub appends annotations across updates, 50 per request
        gh.update_check_run(repo, check.id, status="in_progress", output=check_output(reports, problems, part))
    gh.update_check_run(repo, check.id, conclusion=conclusion, output=check_output(reports, problems, parts[-1]))
    _upsert_comment(gh, repo, pull, reports, problems)
    labels = sorted({label for p in paths if (label := label_for(p))})
    if labels:
        gh.add_labels(repo, pull.number, labels)
    log.info("%s#%d@%s: %s, %d files, %d annotations", repo, pull.number, pull.head_sha[:7],
                 conclusion, len(reports), sum(len(p) for p in parts))


def _upsert_comment(gh: CommentsClient, repo: str, pull: PullRequest, reports: list[Any], problems: list[str]) -> None:
    """Edit the one summary comment (found by its marker), or create it; skip PRs with nothing to say."""
    existing = next((c for c in gh.list_comments(repo, pull.number) if COMMENT_MARKER in c.body), None)
    if existing is None and not reports:
        return  # a PR that touches no taxonomy file gets a green check and no comment
    body = comment_body(reports, pull.head_sha, problems, author=pull.author)
    if existing is None:
        gh.create_comment(repo, pull.number, body)
    elif existing.body != body:
        gh.edit_comment(repo, existing.id, body)
