"""lab.settings: the teacher, cache, signing and rank settings are read through the one settings mechanism.

A bad value is one line naming the variable; a secret is never in a repr or an error.
"""

from __future__ import annotations

import argparse
from pathlib import Path

import pytest

from lab.commands.generate import _teacher
from lab.generate.cache import DEFAULT_CACHE_DIR, default_cache_dir
from lab.models.package import DEFAULT_MODEL_CACHE, default_model_cache
from lab.publish.signing import SignatureError, load_private_key, trusted_public_key
from lab.settings import DistSettings, SigningSettings, TeacherKeySettings
from lab.train import distributed
from lab.train.trainer import _is_main
from schemas.config_model import ConfigError

KEY = "sk-labSettingsCanary-0000000000042"


def test_the_teacher_key_comes_from_arborists_variable_then_openais_and_is_never_shown():
    both = TeacherKeySettings.from_environ({"ARBORIST_TEACHER_API_KEY": KEY, "OPENAI_API_KEY": "sk-other-00000000"})
    assert both.key() == KEY and KEY not in repr(both) + str(both)
    assert TeacherKeySettings.from_environ({"ARBORIST_TEACHER_API_KEY": "", "OPENAI_API_KEY": KEY}).key() == KEY
    assert TeacherKeySettings.from_environ({}).key() is None


def test_the_signing_key_is_read_from_the_environment_and_never_shown(monkeypatch):
    bad_key = "-----BEGIN PRIVATE KEY-----\nnotakey" + KEY + "\n-----END PRIVATE KEY-----"
    monkeypatch.setenv("ARBORIST_SIGNING_KEY", bad_key)
    assert KEY not in repr(SigningSettings.from_environ())
    with pytest.raises(SignatureError) as caught:
        load_private_key()
    assert str(caught.value).startswith("ARBORIST_SIGNING_KEY is not") and KEY not in str(caught.value)
    monkeypatch.delenv("ARBORIST_SIGNING_KEY")
    assert load_private_key() is None


def test_the_pinned_public_key_is_read_from_the_environment(monkeypatch):
    monkeypatch.setenv("ARBORIST_RELEASE_PUBLIC_KEY", "bm90IGEga2V5")  # base64 of 9 bytes, not 32
    with pytest.raises(SignatureError, match="^ARBORIST_RELEASE_PUBLIC_KEY is not an Ed25519 public key"):
        trusted_public_key()
    monkeypatch.setenv("ARBORIST_RELEASE_PUBLIC_KEY", "A" * 43 + "=")  # 32 zero bytes
    assert trusted_public_key() == bytes(32)


def test_cache_folders_follow_arborist_cache_dir(tmp_path):
    env = {"ARBORIST_CACHE_DIR": str(tmp_path)}
    assert default_cache_dir(env) == tmp_path and default_model_cache(env) == tmp_path / "models"
    assert default_cache_dir({}) == DEFAULT_CACHE_DIR.expanduser()
    assert default_model_cache({}) == DEFAULT_MODEL_CACHE.expanduser()
    assert default_cache_dir({"ARBORIST_CACHE_DIR": "~/x"}) == Path("~/x").expanduser()


@pytest.mark.parametrize("env, line", [
    ({"RANK": "first"}, "RANK: expected an integer, got 'first'"),
    ({"WORLD_SIZE": "two"}, "WORLD_SIZE: expected an integer, got 'two'"),
    ({"LOCAL_RANK": "-1"}, "LOCAL_RANK: input should be greater than or equal to 0, got '-1'"),
])
def test_a_bad_rank_variable_is_one_line_naming_it(env, line):
    with pytest.raises(ConfigError) as caught:
        distributed.setup(env)
    assert str(caught.value) == line


def test_only_rank_zero_is_the_main_process(monkeypatch):
    assert distributed.setup({"WORLD_SIZE": "1", "RANK": "0"}).world == 1  # one process: no group to join
    assert DistSettings.from_environ({"RANK": "3", "WORLD_SIZE": "4"}).rank == 3
    monkeypatch.setenv("RANK", "1")
    assert _is_main() is False
    monkeypatch.setenv("RANK", "0")
    assert _is_main() is True
    monkeypatch.delenv("RANK")
    assert _is_main() is True


def test_lab_generate_takes_its_teacher_from_the_environment_when_run_not_when_parsed(monkeypatch, capsys):
    monkeypatch.setenv("ARBORIST_TEACHER", "scripted")
    assert _teacher(argparse.Namespace(teacher=None)) == "scripted"
    assert _teacher(argparse.Namespace(teacher="http://127.0.0.1:9/v1")) == "http://127.0.0.1:9/v1"  # the flag wins
    monkeypatch.delenv("ARBORIST_TEACHER")
    assert _teacher(argparse.Namespace(teacher=None)) is None
    assert "name a teacher with --teacher (or set ARBORIST_TEACHER)" in capsys.readouterr().err
