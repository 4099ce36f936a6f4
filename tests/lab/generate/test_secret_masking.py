"""A teacher that echoes its API key in an error: the key reaches no file, no manifest, no stdout."""

from __future__ import annotations

from pathlib import Path

from lab.cli import main as lab_main
from lab.generate import GenerateParams, generate_leaves
from lab.generate.backends.openai_http import OpenAIBackend

from .conftest import FREEFORM
from .hostile_teacher import HostileTeacher, echo_key

ENV_KEY = "sk-teacherEnvKeyCanary-000000000011"
OPTION_KEY = "sk-teacherOptionKeyCanary-0000000022"


def _everything_written(*folders: Path) -> bytes:
    return b"".join(p.read_bytes() for folder in folders if folder.exists() for p in folder.rglob("*") if p.is_file())


def test_lab_generate_masks_an_echoed_key_in_manifest_data_and_stdout(tmp_path, capsys, monkeypatch):
    monkeypatch.setenv("ARBORIST_TEACHER_API_KEY", ENV_KEY)
    leaf = tmp_path / "tax" / "compositional_skills" / "synonyms" / "qna.yaml"
    leaf.parent.mkdir(parents=True)
    leaf.write_bytes(FREEFORM)
    with HostileTeacher(echo_key) as server:
        code = lab_main(["generate", str(leaf), "--teacher", server.url, "--model", "m", "--samples", "2",
                         "--no-validate", "--quiet", "--out", str(tmp_path / "out"), "--cache-dir", str(tmp_path / "c")])
    said = capsys.readouterr()
    assert code == 1
    manifest = (tmp_path / "out" / "manifest.json").read_text()
    assert "invalid credentials: Authorization: Bearer ***" in manifest  # the reason survives, the key does not
    assert ENV_KEY.encode() not in _everything_written(tmp_path / "out", tmp_path / "out.failed", tmp_path / "c")
    assert ENV_KEY not in said.out + said.err


def test_a_key_given_only_as_an_option_is_masked_too(tmp_path, freeform_leaf, monkeypatch):
    for name in ("ARBORIST_TEACHER_API_KEY", "OPENAI_API_KEY"):
        monkeypatch.delenv(name, raising=False)
    with HostileTeacher(echo_key) as server:
        backend = OpenAIBackend(server.url, model="m", context_length=2048, api_key=OPTION_KEY, backoff_s=0.01)
        manifest = generate_leaves([freeform_leaf], backend, tmp_path / "out", GenerateParams(samples=2),
                                   cache_dir=tmp_path / "c")
        backend.close()
    [leaf] = manifest.leaves
    assert leaf.status == "failed" and "HTTP 401" in leaf.message and OPTION_KEY not in leaf.message
    assert all(OPTION_KEY not in e for e in leaf.error_examples)
    assert OPTION_KEY.encode() not in _everything_written(tmp_path / "out", tmp_path / "c")
