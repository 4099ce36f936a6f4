"""One masker for stdout, logs and files: every secret the process knows, in every spelling it gets written in."""

from __future__ import annotations

import json

from bot.settings import load_settings
from schemas.masking import MASK, known_secrets, mask, register_secret


def test_environment_secrets_are_masked_by_their_names_and_short_values_are_left(monkeypatch):
    monkeypatch.setenv("OPENAI_API_KEY", "sk-envKeyCanary000000000001")
    monkeypatch.setenv("GITHUB_TOKEN", "ghp_envTokenCanary0000000002")
    monkeypatch.setenv("HOME_PASSWORD", "short")
    monkeypatch.setenv("PLAIN_SETTING", "not-a-secret-value-at-all")
    text = "k=sk-envKeyCanary000000000001 t=ghp_envTokenCanary0000000002 p=short s=not-a-secret-value-at-all"
    assert mask(text) == f"k={MASK} t={MASK} p=short s=not-a-secret-value-at-all"


def test_a_secret_is_masked_after_json_or_url_encoding():
    secret = 'pa"ss\\wörd-Canary-0003/+'
    register_secret(secret)
    assert secret in known_secrets()
    as_json = json.dumps({"error": f"bad key {secret}"})
    as_json_ascii = json.dumps({"error": f"bad key {secret}"}, ensure_ascii=True)
    assert "Canary-0003" not in mask(as_json) and "Canary-0003" not in mask(as_json_ascii)
    assert "Canary" not in mask("https://x/?key=pa%22ss%5Cw%C3%B6rd-Canary-0003%2F%2B")


def test_settings_file_secrets_and_every_line_of_a_pem_key_are_registered(tmp_path, monkeypatch):
    body = "\n".join(["MIIEpAIBAAKCAQEAsettingsKeyLineCanary0000000000000000000000000000001",
                      "AnotherPemBodyLineCanary00000000000000000000000000000000000000002"])
    pem = tmp_path / "app.pem"
    pem.write_text(f"-----BEGIN RSA PRIVATE KEY-----\n{body}\n-----END RSA PRIVATE KEY-----\n")
    settings_file = tmp_path / "arborist.env"
    settings_file.write_text(f"ARBORIST_WEBHOOK_SECRET=whsec-fileOnlyCanary-0004\nARBORIST_PRIVATE_KEY_FILE={pem}\n"
                             "ARBORIST_APP_ID=7\n")
    monkeypatch.delenv("ARBORIST_WEBHOOK_SECRET", raising=False)
    load_settings({"ARBORIST_SETTINGS_FILE": str(settings_file), "ARBORIST_DATA_DIR": str(tmp_path / "d")})
    leaked = "delivery failed with secret whsec-fileOnlyCanary-0004; key line AnotherPemBodyLineCanary0000"
    leaked += "0000000000000000000000000000000000002"
    masked = mask(leaked)
    assert "fileOnlyCanary" not in masked and "AnotherPemBodyLineCanary" not in masked


def test_log_records_are_masked_whatever_handler_writes_them(tmp_path, monkeypatch):
    import logging

    from schemas.masking import install_log_masking

    monkeypatch.setenv("ARBORIST_GIT_TOKEN", "ghs_logCanary0000000000000005")
    before = logging.getLogRecordFactory()
    try:
        install_log_masking()
        install_log_masking()  # idempotent
        logger = logging.getLogger("test.masking")
        handler = logging.FileHandler(tmp_path / "app.log")
        logger.addHandler(handler)
        logger.warning("clone failed for %s", "https://x-access-token:ghs_logCanary0000000000000005@github.com/a/b")
        handler.close()
        logger.removeHandler(handler)
    finally:
        logging.setLogRecordFactory(before)
    written = (tmp_path / "app.log").read_text()
    assert "logCanary" not in written and "x-access-token:***@github.com" in written
