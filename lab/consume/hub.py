"""The consumer side of releases: download one into the Hugging Face cache, or list them.

A source is either a Hub repo id (with an optional endpoint for private mirrors) or a local folder
written by `DirectoryTarget` (air-gapped). Downloads go through `snapshot_download` with
allow_patterns, into the standard cache, so transformers and offline mode find them there.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from lab.publish.release import RECORD_FILE
from lab.publish.targets import LATEST_FILE, RELEASES_DIR

LATEST = "latest"
FORMATS = ("hf", "gguf")
DEFAULT_QUANT = "f16"
HF_PATTERNS = ["*.json", "*.safetensors", "*.jinja", "tokenizer*", "*.model", "*.txt", "README.md"]


class PullError(RuntimeError):
    """The release cannot be found or downloaded; the message says what to try."""


@dataclass(frozen=True)
class ReleaseRow:
    tag: str
    date: str
    taxonomy_sha: str
    headline: dict[str, Any] | None
    commit: str


def allow_patterns(fmt: str, quant: str | None = DEFAULT_QUANT) -> list[str]:
    """Which files of a release one format needs (release.json always, to know what was pulled)."""
    if fmt not in FORMATS:
        raise PullError(f"format must be one of {', '.join(FORMATS)}, not {fmt!r}")
    if fmt == "gguf":
        return [f"*-{quant}.gguf" if quant else "*.gguf", "README.md", RECORD_FILE]
    return [*HF_PATTERNS]


def _local_release(root: Path, release: str) -> Path:
    tag = (root / LATEST_FILE).read_text().strip() if release == LATEST else release
    path = root / RELEASES_DIR / tag
    if not (path / RECORD_FILE).is_file():
        known = sorted(p.name for p in (root / RELEASES_DIR).glob("*") if (p / RECORD_FILE).is_file())
        raise PullError(f"no release {tag!r} in {root}; releases there: {', '.join(known) or 'none'}")
    return path


def pull(source: str, release: str = LATEST, fmt: str = "hf", *, endpoint: str | None = None,
         token: str | None = None, cache_dir: str | Path | None = None, offline: bool = False,
         quant: str | None = DEFAULT_QUANT) -> Path:
    """Download `release` (a tag, or "latest" = main) of `source` and return the local snapshot folder."""
    patterns = allow_patterns(fmt, quant)
    local = Path(source)
    if local.is_dir() and (local / RELEASES_DIR).is_dir():
        return _local_release(local, release)
    from huggingface_hub import snapshot_download
    from huggingface_hub.errors import HfHubHTTPError, LocalEntryNotFoundError, RevisionNotFoundError

    revision = "main" if release == LATEST else release
    try:
        path = Path(snapshot_download(source, revision=revision, allow_patterns=patterns, endpoint=endpoint,
                                      token=token, cache_dir=cache_dir, local_files_only=offline))
    except RevisionNotFoundError:
        raise PullError(f"{source} has no release {release!r}; see `lab releases {source}`") from None
    except LocalEntryNotFoundError:
        raise PullError(f"{source}@{release} is not in the cache and the Hub cannot be reached "
                        "(offline mode, or the endpoint is down)") from None
    except HfHubHTTPError as exc:
        raise PullError(f"cannot download {source}@{release}: {exc.response.status_code} "
                        f"{exc.response.reason_phrase}") from None
    if fmt == "gguf" and not list(path.glob("*.gguf")):
        raise PullError(f"{source}@{release} has no GGUF file matching {patterns[0]}")
    return path


def list_releases(source: str, *, endpoint: str | None = None, token: str | None = None,
                  cache_dir: str | Path | None = None) -> list[ReleaseRow]:
    """Every tagged release with its record, newest first."""
    local = Path(source)
    if local.is_dir() and (local / RELEASES_DIR).is_dir():
        records = [json.loads(p.read_text()) for p in (local / RELEASES_DIR).glob(f"*/{RECORD_FILE}")]
        rows = [_row(r, r.get("tag", ""), r.get("tag", "")) for r in records]
        return sorted(rows, key=lambda r: r.date, reverse=True)
    from huggingface_hub import HfApi
    from huggingface_hub.errors import EntryNotFoundError

    api = HfApi(endpoint=endpoint, token=token)
    rows = []
    for ref in api.list_repo_refs(source).tags:
        try:
            path = api.hf_hub_download(source, RECORD_FILE, revision=ref.target_commit, cache_dir=cache_dir)
            record = json.loads(Path(path).read_text())
        except (EntryNotFoundError, ValueError):
            record = {}
        rows.append(_row(record, ref.name, ref.target_commit))
    return sorted(rows, key=lambda r: r.date, reverse=True)


def _row(record: dict[str, Any], tag: str, commit: str) -> ReleaseRow:
    return ReleaseRow(tag=tag, date=str(record.get("date") or ""), taxonomy_sha=str(record.get("taxonomy_sha") or ""),
                      headline=record.get("headline"), commit=commit)


def format_headline(headline: dict[str, Any] | None) -> str:
    if not headline or headline.get("value") is None:
        return "–"
    text = f"{headline.get('name', 'score')} {headline['value']:.3f}"
    ci = headline.get("ci")
    return text + (f" [{ci[0]:.3f}, {ci[1]:.3f}]" if ci else "")
