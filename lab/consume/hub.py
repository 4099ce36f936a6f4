"""The consumer side of releases: download one into the Hugging Face cache, or list them.

A source is either a Hub repo id (with an optional endpoint for private mirrors) or a local folder
written by `DirectoryTarget` (air-gapped). Downloads go through `snapshot_download` with
allow_patterns, into the standard cache, so transformers and offline mode find them there. What
was pulled is checked against the Hub's hashes and release.json's (lab.consume.verify) before its
path is returned; release.json itself is read as untrusted input (lab.consume.record).
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

from lab.consume.record import RecordError, read_record
from lab.consume.verify import Mismatch, check_release, forget, require_listed
from lab.errors import LabError
from lab.publish.release import RECORD_FILE
from lab.publish.signing import SIG_FILE, SignatureError, trusted_public_key, verify_folder
from lab.publish.targets import LATEST_FILE, RELEASES_DIR

LATEST = "latest"
GGUF_SUFFIX = "-GGUF"  # the GGUF twin of a model repository (lab.publish.gguf_card)
FORMATS = ("hf", "gguf")
DEFAULT_QUANT = "f16"
HF_PATTERNS = ["*.json", "*.safetensors", "*.jinja", "tokenizer*", "*.model", "*.txt", "README.md", SIG_FILE]


class PullError(LabError):
    """The release cannot be found or downloaded; the message says what to try."""


@dataclass(frozen=True)
class ReleaseRow:
    tag: str
    date: str
    taxonomy_sha: str
    headline: dict[str, Any] | None
    commit: str
    problem: str = ""  # why release.json could not be read, when it could not


def allow_patterns(fmt: str, quant: str | None = DEFAULT_QUANT) -> list[str]:
    """Which files of a release one format needs (release.json always, to know what was pulled)."""
    if fmt not in FORMATS:
        raise PullError(f"format must be one of {', '.join(FORMATS)}, not {fmt!r}")
    if fmt == "gguf":
        return [f"*-{quant}.gguf" if quant else "*.gguf", "README.md", RECORD_FILE, SIG_FILE]
    return [*HF_PATTERNS]


def choose_gguf(names: list[str], quant: str | None = DEFAULT_QUANT) -> str:
    """The GGUF file to use among `names`: the one of type `quant`, else the only one; else say which exist."""
    ggufs = sorted(n for n in names if n.endswith(".gguf"))
    matching = [n for n in ggufs if quant and n.rsplit("/", 1)[-1].lower().endswith(f"-{quant.lower()}.gguf")]
    if len(matching) == 1:
        return matching[0]
    if len(ggufs) == 1:
        return ggufs[0]
    if not ggufs:
        raise PullError("the release has no GGUF file")
    raise PullError(f"the release has {len(ggufs)} GGUF files and none of type {quant!r}; "
                    f"choose one with --quant: {', '.join(ggufs)}")


def is_release_folder(path: Path) -> bool:
    """A folder written by `lab publish --dir` (releases/<tag>/ inside)."""
    return path.is_dir() and (path / RELEASES_DIR).is_dir()


def _local_release(root: Path, release: str, strict: bool = False) -> Path:
    tag = (root / LATEST_FILE).read_text().strip() if release == LATEST else release
    path = root / RELEASES_DIR / tag
    if "/" in tag or tag in ("", ".", "..") or not (path / RECORD_FILE).is_file():
        known = sorted(p.name for p in (root / RELEASES_DIR).glob("*") if (p / RECORD_FILE).is_file())
        raise PullError(f"no release {tag!r} in {root}; releases there: {', '.join(known) or 'none'}")
    _verify(path, f"{root} release {tag}", in_cache=False, strict=strict)
    return path


def _verify(path: Path, label: str, in_cache: bool, strict: bool = False) -> None:
    """Check the pulled files; a damaged one is dropped from the cache (never from a release folder).

    `strict` (`lab pull --verify`): release.json must list every other pulled file, and its signature must
    match (made by the key ARBORIST_RELEASE_PUBLIC_KEY pins, when set)."""
    try:
        record = read_record(path / RECORD_FILE, RECORD_FILE) if (path / RECORD_FILE).is_file() else {}
        if strict:
            require_listed(path, record.get("checksums"))
        check_release(path, record.get("checksums"))
        if strict:
            verify_folder(path, trusted_public_key())
    except SignatureError as exc:
        raise PullError(f"{label} FAILED verification: {exc}") from None
    except RecordError as exc:
        raise PullError(f"{label}: {exc}") from None
    except Mismatch as exc:
        if in_cache:
            forget(path / exc.path)
        again = "; the damaged copy was removed from the cache, pull again" if in_cache else ""
        raise PullError(f"{label} is corrupt: {exc}{again}") from None


def pull(source: str, release: str = LATEST, fmt: str = "hf", *, endpoint: str | None = None,
         token: str | None = None, cache_dir: str | Path | None = None, offline: bool = False,
         quant: str | None = DEFAULT_QUANT, verify: bool = False) -> Path:
    """Download `release` (a tag, or "latest" = main) of `source` and return the local snapshot folder.

    GGUFs come from the `<source>-GGUF` twin when there is one (older releases kept them in the model repo).
    `verify`: every pulled file must be listed in release.json's checksums, not only match what is listed."""
    patterns = allow_patterns(fmt, quant)
    local = Path(source)
    if is_release_folder(local):
        path = _local_release(local, release, verify)
        if fmt == "gguf":
            choose_gguf([p.name for p in path.glob("*.gguf")], quant)
        return path
    options: dict[str, Any] = {"endpoint": endpoint, "token": token, "cache_dir": cache_dir, "offline": offline}
    if fmt == "gguf":
        source, release, patterns[0] = _locate_gguf(source, release, quant, options)
    path = _download(source, release, patterns, **options)
    if fmt == "gguf":
        choose_gguf([p.name for p in path.glob("*.gguf")], quant)
    _verify(path, f"{source}@{release}", in_cache=True, strict=verify)
    return path


def _locate_gguf(source: str, release: str, quant: str | None, options: dict[str, Any]) -> tuple[str, str, str]:
    """(repository, release, file pattern) of the GGUF to fetch: the twin's at the model's release when it exists."""
    twin = source if source.endswith(GGUF_SUFFIX) else f"{source}{GGUF_SUFFIX}"
    if options["offline"]:  # the GGUF is chosen later among the cached files
        try:
            _download(twin, release, [RECORD_FILE], **options)
            return twin, release, RECORD_FILE
        except PullError:
            return source, release, RECORD_FILE
    tag = release
    if release == LATEST and twin != source:  # the model repo's main names the newest complete release
        tag = _latest_tag(source, options) or LATEST
    found = _remote_gguf(twin, "main" if tag == LATEST else tag, quant, options["endpoint"], options["token"])
    if found is not None:
        return twin, tag, found
    return source, release, _remote_gguf(source, "main" if release == LATEST else release, quant,
                                         options["endpoint"], options["token"]) or allow_patterns("gguf", quant)[0]


def _latest_tag(source: str, options: dict[str, Any]) -> str | None:
    from huggingface_hub import hf_hub_download
    from huggingface_hub.errors import HfHubHTTPError

    try:
        path = hf_hub_download(source, RECORD_FILE, revision="main", endpoint=options["endpoint"],
                               token=options["token"], cache_dir=options["cache_dir"])
        tag = read_record(Path(path), RECORD_FILE).get("tag")
    except (HfHubHTTPError, OSError, RecordError):
        return None
    return tag if isinstance(tag, str) and tag else None


def _remote_gguf(source: str, revision: str, quant: str | None, endpoint: str | None, token: str | None) -> str | None:
    """The one GGUF file of the release to fetch (see choose_gguf), asked of the Hub; None when the repo or
    revision is not there or holds no GGUF."""
    from huggingface_hub import HfApi
    from huggingface_hub.errors import HfHubHTTPError

    try:
        names = HfApi(endpoint=endpoint, token=token).list_repo_files(source, revision=revision)
    except (HfHubHTTPError, OSError):
        return None
    if not any(n.endswith(".gguf") for n in names):
        return None
    try:
        return choose_gguf(names, quant)
    except PullError as exc:
        raise PullError(f"{source}@{revision}: {exc}") from None


def _download(source: str, release: str, patterns: list[str], **options: Any) -> Path:
    from huggingface_hub import snapshot_download
    from huggingface_hub.errors import HfHubHTTPError, LocalEntryNotFoundError, RevisionNotFoundError

    revision = "main" if release == LATEST else release
    try:
        return Path(snapshot_download(source, revision=revision, allow_patterns=patterns,
                                      endpoint=options["endpoint"], token=options["token"],
                                      cache_dir=options["cache_dir"], local_files_only=options["offline"]))
    except RevisionNotFoundError:
        raise PullError(f"{source} has no release {release!r}; see `lab releases {source}`") from None
    except LocalEntryNotFoundError:
        raise PullError(f"{source}@{release} is not in the cache and the Hub cannot be reached "
                        "(offline mode, or the endpoint is down)") from None
    except HfHubHTTPError as exc:
        raise PullError(f"cannot download {source}@{release}: {exc.response.status_code} "
                        f"{exc.response.reason_phrase}") from None
    except OSError as exc:  # huggingface_hub's size check ("Consistency check failed"), disk full, ...
        raise PullError(f"cannot download {source}@{release}: {' '.join(str(exc).split())}") from None


def list_releases(source: str, *, endpoint: str | None = None, token: str | None = None,
                  cache_dir: str | Path | None = None) -> list[ReleaseRow]:
    """Every tagged release with its record, newest first."""
    local = Path(source)
    if is_release_folder(local):
        rows = [_local_row(p) for p in (local / RELEASES_DIR).glob(f"*/{RECORD_FILE}")]
        return sorted(rows, key=lambda r: r.date, reverse=True)
    from huggingface_hub import HfApi
    from huggingface_hub.errors import EntryNotFoundError

    api = HfApi(endpoint=endpoint, token=token)
    rows = []
    for ref in api.list_repo_refs(source).tags:
        try:
            path = api.hf_hub_download(source, RECORD_FILE, revision=ref.target_commit, cache_dir=cache_dir)
            rows.append(_row(read_record(Path(path), RECORD_FILE), ref.name, ref.target_commit))
        except EntryNotFoundError:
            rows.append(_row({}, ref.name, ref.target_commit))
        except RecordError as exc:
            rows.append(ReleaseRow(ref.name, "", "", None, ref.target_commit, problem=str(exc)))
    return sorted(rows, key=lambda r: r.date, reverse=True)


def _local_row(path: Path) -> ReleaseRow:
    tag = path.parent.name
    try:
        record = read_record(path, f"{tag}/{RECORD_FILE}")
    except RecordError as exc:
        return ReleaseRow(tag, "", "", None, tag, problem=str(exc))
    return _row(record, record.get("tag") or tag, record.get("tag") or tag)


def _row(record: dict[str, Any], tag: str, commit: str) -> ReleaseRow:
    return ReleaseRow(tag=tag, date=str(record.get("date") or ""), taxonomy_sha=str(record.get("taxonomy_sha") or ""),
                      headline=record.get("headline"), commit=commit)


def format_headline(headline: dict[str, Any] | None) -> str:
    if not headline or headline.get("value") is None:
        return "–"
    text = f"{headline.get('name', 'score')} {headline['value']:.3f}"
    ci = headline.get("ci")
    return text + (f" [{ci[0]:.3f}, {ci[1]:.3f}]" if ci else "")
