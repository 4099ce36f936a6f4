"""Secrets held by settings never show: not in repr, str, nor in the one-line error of a refused value."""

from __future__ import annotations

import pytest

from bot.jobs.settings import JobSettings
from bot.settings import AppSettings, SettingsError, load_settings
from schemas.config_model import ConfigError

SECRET = "s3cret-webhook-value-0123"
PEM = "-----BEGIN PRIVATE KEY-----\nMIIBverysecretkeymaterial\n-----END PRIVATE KEY-----\n"
AUTH = "Authorization: Bearer ray-s3cret-token"


def test_app_settings_never_show_the_webhook_secret_or_the_key(tmp_path):
    key = tmp_path / "app.pem"
    key.write_text(PEM)
    settings = load_settings({"ARBORIST_WEBHOOK_SECRET": SECRET, "ARBORIST_APP_ID": "3",
                              "ARBORIST_PRIVATE_KEY_FILE": str(key), "ARBORIST_DATA_DIR": str(tmp_path / "d")})
    assert settings.webhook_secret == SECRET.encode() and settings.private_key == PEM
    for text in (repr(settings), str(settings)):
        assert SECRET not in text and "verysecretkeymaterial" not in text


def test_a_refused_secret_is_named_but_not_shown():
    with pytest.raises(SettingsError) as err:
        AppSettings(webhook_secret=SECRET, private_key=["not", SECRET])
    assert "private_key" in str(err.value) and SECRET not in str(err.value) and "\n" not in str(err.value)
    with pytest.raises(ConfigError) as err:
        JobSettings(ray_auth_header=[AUTH])
    assert "ARBORIST_RAY_AUTH_HEADER" in str(err.value) and "s3cret" not in str(err.value)


def test_private_key_is_never_read_from_the_environment_itself(tmp_path):
    settings = AppSettings.from_environ({"ARBORIST_WEBHOOK_SECRET": SECRET, "ARBORIST_PRIVATE_KEY": PEM})
    assert settings.private_key == ""  # only ARBORIST_PRIVATE_KEY_FILE, read and checked by load_settings


def test_job_settings_hide_the_ray_auth_header():
    settings = JobSettings.from_environ({"ARBORIST_EXECUTOR": "ray", "ARBORIST_RAY_ADDRESS": "http://head:8265",
                                         "ARBORIST_RAY_AUTH_HEADER": AUTH})
    assert settings.ray_auth_header == AUTH and "ray-s3cret-token" not in repr(settings) + str(settings)
    with pytest.raises(ConfigError) as err:
        JobSettings.from_environ({"ARBORIST_RAY_AUTH_HEADER": "ray-s3cret-token-without-a-name"})
    assert "ARBORIST_RAY_AUTH_HEADER" in str(err.value) and "s3cret" not in str(err.value)
