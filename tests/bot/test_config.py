"""Repository config: defaults, typed overrides, schema problems reported and never fatal."""

from __future__ import annotations

import pytest

from bot.context import Context
from lab.taxonomy.repoconfig import CONFIG_PATH, load_repo_config
from sandbox.fakes.github import FakeGitHub
from schemas.repo_config import RepoConfig, render_config_reference


def test_absent_config_gives_documented_defaults():
    config, problems = load_repo_config(None)
    assert problems == []
    assert config.commands.allowed_permissions == ("write", "maintain", "admin")
    assert config.generate.samples == 10 and config.generate.max_samples == 50
    assert config.retrain.gate.min_effect == 0.01 and config.retrain.gate.allow_regression is False
    assert config.executor.runs_on == ("self-hosted", "gpu")
    assert config.release.tag_format == "v{date}-{shortsha}" and config.release.repo_id is None


def test_valid_overrides_are_applied():
    data = b"generate:\n  samples: 3\n  teacher: org/teacher\nrelease:\n  repo_id: org/model\n  private: true\n"
    config, problems = load_repo_config(data)
    assert problems == []
    assert config.generate.samples == 3 and config.generate.teacher == "org/teacher"
    assert config.release.repo_id == "org/model" and config.release.private is True
    assert config.generate.max_samples == 50  # untouched keys keep their defaults


def test_broken_section_falls_back_and_is_reported_while_good_sections_apply():
    data = b"generate: {samples: 'lots'}\ncommands: {allowed_teams: [org/maintainers]}\n"
    config, problems = load_repo_config(data)
    assert config.generate.samples == 10
    assert config.commands.allowed_teams == ("org/maintainers",)
    assert any("generate.samples" in p for p in problems)
    assert any("section 'generate' ignored" in p for p in problems)


@pytest.mark.parametrize("data", [b"foo: 1\n", b"- a list\n", b"key: [unclosed\n", b"\xff\xfe\x00", b"x" * 70_000])
def test_unusable_config_gives_defaults_and_a_problem(data):
    config, problems = load_repo_config(data)
    assert config == RepoConfig()
    assert problems and all(p.startswith(CONFIG_PATH) for p in problems)


def test_unknown_rule_id_in_severity_is_reported():
    config, problems = load_repo_config(b"validation:\n  severity:\n    no-such-rule: off\n")
    assert config.validation.severity == {}
    assert any("no-such-rule" in p for p in problems)


def test_from_mapping_rejects_unknown_keys_and_wrong_types():
    with pytest.raises(ValueError, match="unknown key"):
        RepoConfig.from_mapping({"generate": {"smaples": 3}})
    with pytest.raises(ValueError, match="generate.samples: expected an integer"):
        RepoConfig.from_mapping({"generate": {"samples": True}})
    assert RepoConfig.from_mapping({"retrain": {"gate": {"min_effect": 0}}}).retrain.gate.min_effect == 0.0


def test_config_is_read_from_the_base_ref_given():
    gh = FakeGitHub()
    gh.put_files("o/r", "main", {CONFIG_PATH: "generate: {samples: 7}\n"})
    gh.put_files("o/r", "headsha", {CONFIG_PATH: "generate: {samples: 1000}\n"})
    loaded = Context(github=gh).repo_config("o/r", "main")
    assert loaded.config.generate.samples == 7 and loaded.problems == ()


def test_reference_lists_every_leaf_setting_with_its_default():
    text = render_config_reference()
    for key in ("validation.severity", "commands.allowed_teams", "generate.teacher",
                "retrain.gate.allow_regression", "executor.runs_on", "release.tag_format"):
        assert f"`{key}`" in text
    assert "`v{date}-{shortsha}`" in text


def test_deploy_guide_carries_the_current_config_reference():
    from tests.conftest import REPO_ROOT

    text = (REPO_ROOT / "docs" / "deploy-app.md").read_text()
    start, end = "<!-- config-reference:start -->\n", "<!-- config-reference:end -->"
    assert text.split(start)[1].split(end)[0] == render_config_reference()
