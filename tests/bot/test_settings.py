"""Settings are read once; a missing or malformed one stops start-up with a line naming it."""

from __future__ import annotations

import subprocess
import sys

import pytest

from bot.settings import SettingsError, load_settings
from tests.conftest import REPO_ROOT

PEM = "-----BEGIN PRIVATE KEY-----\nMIIB\n-----END PRIVATE KEY-----\n"


@pytest.fixture
def env(tmp_path):
    key = tmp_path / "app.pem"
    key.write_text(PEM)
    return {"ARBORIST_APP_ID": "12", "ARBORIST_PRIVATE_KEY_FILE": str(key), "ARBORIST_WEBHOOK_SECRET": "s3cret",
            "ARBORIST_DATA_DIR": str(tmp_path / "data")}


def test_defaults_and_values(env, tmp_path):
    settings = load_settings(env)
    assert settings.github_url == "https://api.github.com" and settings.app_id == 12
    assert settings.webhook_secret == b"s3cret" and settings.private_key == PEM
    assert settings.data_dir.is_dir() and settings.max_body_bytes == 25 * 1024 * 1024
    assert "s3cret" not in repr(settings) and "PRIVATE" not in repr(settings)


@pytest.mark.parametrize("name, value, words", [
    ("ARBORIST_WEBHOOK_SECRET", "", "ARBORIST_WEBHOOK_SECRET: required"),
    ("ARBORIST_APP_ID", "twelve", "ARBORIST_APP_ID: expected an integer"),
    ("ARBORIST_APP_ID", "-3", "ARBORIST_APP_ID"),
    ("ARBORIST_GITHUB_URL", "ftp://x", "ARBORIST_GITHUB_URL: expected an http(s) URL"),
    ("ARBORIST_PRIVATE_KEY_FILE", "/nonexistent/key.pem", "ARBORIST_PRIVATE_KEY_FILE: cannot read"),
    ("ARBORIST_MAX_BODY_BYTES", "0", "ARBORIST_MAX_BODY_BYTES"),
])
def test_bad_setting_is_named(env, name, value, words):
    env[name] = value
    with pytest.raises(SettingsError) as err:
        load_settings(env)
    assert words in str(err.value) and "\n" not in str(err.value)


def test_key_file_that_is_not_pem_is_refused(env, tmp_path):
    (tmp_path / "app.pem").write_text("hello")
    with pytest.raises(SettingsError, match="not a PEM private key"):
        load_settings(env)


@pytest.mark.parametrize("variable, content, words", [
    ("ARBORIST_PRIVATE_KEY_FILE", b"A" * (64 * 1024 + 1), "is too large to be a PEM key"),
    ("ARBORIST_PRIVATE_KEY_FILE", "-----BEGIN PRIVATE KEY-----\nclé\n".encode(), "cannot read"),
    ("ARBORIST_SETTINGS_FILE", b"A=" + b"x" * (64 * 1024), "is too large to be a settings file"),
    ("ARBORIST_SETTINGS_FILE", b"ARBORIST_APP_ID=\xff\xfe\n", "cannot read"),
])
def test_an_oversized_or_binary_key_or_settings_file_is_one_line_naming_it(env, tmp_path, variable, content, words):
    hostile = tmp_path / "hostile"
    hostile.write_bytes(content)
    env[variable] = str(hostile)
    with pytest.raises(SettingsError) as err:
        load_settings(env)
    assert str(err.value).startswith(f"{variable}: ") and words in str(err.value) and "\n" not in str(err.value)


def test_settings_file_is_read_and_environment_wins(env, tmp_path):
    settings_file = tmp_path / "arborist.env"
    settings_file.write_text("# comment\nARBORIST_GITHUB_URL=http://127.0.0.1:9\nARBORIST_APP_ID='99'\n")
    env.pop("ARBORIST_APP_ID")
    env["ARBORIST_SETTINGS_FILE"] = str(settings_file)
    settings = load_settings(env)
    assert settings.github_url == "http://127.0.0.1:9" and settings.app_id == 99
    env["ARBORIST_APP_ID"] = "5"
    assert load_settings(env).app_id == 5


def test_serve_stops_with_one_clear_line_when_a_setting_is_missing(tmp_path):
    env = {"PATH": "/usr/bin:/bin", "ARBORIST_DATA_DIR": str(tmp_path)}
    done = subprocess.run([sys.executable, "-m", "bot.cli", "serve"], cwd=REPO_ROOT, env=env,
                          capture_output=True, text=True, timeout=60)
    assert done.returncode == 2
    assert done.stderr.strip() == "arborist serve: ARBORIST_WEBHOOK_SECRET: required but not set"


def test_serving_process_never_imports_torch_or_transformers(tmp_path):
    code = (
        "import sys\n"
        "from bot.settings import AppSettings\n"
        "from bot.entry.serve import build\n"
        "from bot.handlers import pull_request, installation\n"
        "import bot.routes\n"
        "bot.routes.default_router()\n"
        "pull_request._taxonomy_api()\n"
        f"build(AppSettings(webhook_secret=b'x', data_dir=__import__('pathlib').Path({str(tmp_path)!r})))\n"
        "bad = [m for m in ('torch', 'transformers', 'peft', 'llama_cpp') if m in sys.modules]\n"
        "print('heavy:', bad)\n"
    )
    done = subprocess.run([sys.executable, "-c", code], cwd=REPO_ROOT, capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr[-2000:]
    assert "heavy: []" in done.stdout


def test_every_server_setting_is_documented_in_the_readme_and_the_deploy_guide():
    from bot.settings import NUMBERS

    readme = (REPO_ROOT / "README.md").read_text()
    guide = (REPO_ROOT / "docs" / "deploy-app.md").read_text()
    for name in NUMBERS:
        assert f"`ARBORIST_{name.upper()}`" in readme, name
        assert f"`ARBORIST_{name.upper()}`" in guide, name


@pytest.mark.parametrize("name", ["ARBORIST_HEADER_TIMEOUT_S", "ARBORIST_MAX_CONNECTIONS", "ARBORIST_KEEP_ALIVE_S"])
def test_connection_limits_are_positive_numbers(env, name):
    env[name] = "0"
    with pytest.raises(SettingsError, match=name):
        load_settings(env)
    env[name] = "7"
    assert getattr(load_settings(env), name.removeprefix("ARBORIST_").lower()) == 7
