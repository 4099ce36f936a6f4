"""HF_ENDPOINT, HF_TOKEN and HF_HUB_OFFLINE are read one way by every `lab` command and model resolver."""

from __future__ import annotations

import pytest

from lab.hub_settings import HubSettings
from lab.models.package import offline_from_env
from schemas.config_model import ConfigError


@pytest.mark.parametrize("value, offline", [("1", True), ("true", True), ("YES", True), ("on", True),
                                            ("0", False), ("false", False), ("", False)])
def test_offline_is_one_boolean_wherever_it_is_read(value, offline):
    env = {"HF_HUB_OFFLINE": value}
    assert HubSettings.from_environ(env).offline is offline
    assert offline_from_env(env) is offline  # the packaged-model fetcher and the resolvers agree


def test_a_value_that_is_not_a_boolean_is_refused_by_name():
    with pytest.raises(ConfigError, match=r"^HF_HUB_OFFLINE: expected true or false, got 'maybe'$"):
        HubSettings.from_environ({"HF_HUB_OFFLINE": "maybe"})


def test_the_token_is_read_but_never_shown():
    hub = HubSettings.from_environ({"HF_TOKEN": "hf_s3cret_token_value", "HF_ENDPOINT": "http://127.0.0.1:9"})
    assert hub.token == "hf_s3cret_token_value" and hub.endpoint == "http://127.0.0.1:9"
    assert "s3cret" not in repr(hub) + str(hub)


def test_lab_pull_stops_with_one_line_naming_a_bad_offline_value(monkeypatch, capsys, tmp_path):
    from lab.cli import main

    monkeypatch.setenv("HF_HUB_OFFLINE", "maybe")
    assert main(["pull", "acme/model", "--cache-dir", str(tmp_path)]) == 2
    assert capsys.readouterr().err == "lab pull: HF_HUB_OFFLINE: expected true or false, got 'maybe'\n"
