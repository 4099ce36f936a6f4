"""ValidationConfig: overrides apply, bad settings fail with a message naming the key."""

from __future__ import annotations

import pytest

from lab.taxonomy import ValidationConfig

from .conftest import SKILL, check, rules_of


def test_severity_override_turns_a_warning_into_an_error_and_off_removes_it():
    text = SKILL.replace("What insect makes honey?", "Which animal has a trunk and very big ears?")
    assert {f.severity for f in check(text) if f.rule == "duplicate-question"} == {"warning"}
    strict = ValidationConfig.from_mapping({"severity": {"duplicate-question": "error"}})
    assert {f.severity for f in check(text, config=strict) if f.rule == "duplicate-question"} == {"error"}
    quiet = ValidationConfig.from_mapping({"severity": {"duplicate-question": "off"}})
    assert "duplicate-question" not in rules_of(check(text, config=quiet))


def test_limits_override_changes_what_is_too_long():
    config = ValidationConfig.from_mapping({"limits": {"qa_tokens": 3}})
    assert "question-too-long" in rules_of(check(SKILL, config=config))


@pytest.mark.parametrize("mapping, words", [
    ({"severity": {"no-such-rule": "error"}}, "no-such-rule"),
    ({"severity": {"schema": "fatal"}}, "schema"),
    ({"severity": ["schema"]}, "severity"),
    ({"limits": {"max_depth": "deep"}}, "max_depth"),
    ({"limits": {"max_depth": True}}, "max_depth"),
    ({"limits": {"max_depth": -1}}, "max_depth"),
    ({"limits": {"max_depth": 2.5}}, "max_depth"),
    ({"limits": {"speed": 1}}, "speed"),
    ({"tokenizer": 3}, "tokenizer"),
    ({"colour": "red"}, "colour"),
    ("strict", "mapping"),
])
def test_bad_settings_are_rejected_with_the_key_named(mapping, words):
    with pytest.raises(ValueError, match=words):
        ValidationConfig.from_mapping(mapping)


def test_empty_or_missing_section_gives_defaults():
    assert ValidationConfig.from_mapping(None) == ValidationConfig()
    assert ValidationConfig.from_mapping({}) == ValidationConfig()
    assert ValidationConfig.from_mapping({"limits": {"near_duplicate": 1}}).limits.near_duplicate == 1.0
    assert ValidationConfig.from_mapping({"limits": {"max_depth": 8.0}}).limits.max_depth == 8


def _word_level_tokenizer(folder) -> str:
    """A tokenizer trained on the fly: one token per word, so counts are easy to predict."""
    from tokenizers import Tokenizer, models, pre_tokenizers, trainers

    tokenizer = Tokenizer(models.WordLevel(unk_token="[UNK]"))
    tokenizer.pre_tokenizer = pre_tokenizers.Whitespace()
    tokenizer.train_from_iterator(["what insect makes honey ?"], trainers.WordLevelTrainer(special_tokens=["[UNK]"]))
    path = folder / "tokenizer.json"
    tokenizer.save(str(path))
    return str(path)


def test_real_tokenizer_counts_are_used_when_configured(tmp_path):
    path = _word_level_tokenizer(tmp_path)
    config = ValidationConfig.from_mapping({"tokenizer": path, "limits": {"qa_tokens": 29}})
    text = SKILL.replace("What insect makes honey?", "What insect makes honey? " * 6)
    findings = [f for f in check(text, config=config) if f.rule == "question-too-long"]
    assert [f.message for f in findings] == ["This question is 30 tokens; the limit is 29."]


def test_the_validator_starts_without_loading_pydantic():
    """The core runs on plain dataclasses; pydantic comes in only when a config or an override is read."""
    import subprocess
    import sys

    code = ("import sys, lab.taxonomy.validate, lab.taxonomy\n"
            "lab.taxonomy.validate_files([], lambda p: None)\n"
            "print(sorted(m for m in sys.modules if m.split('.')[0] in ('pydantic', 'pydantic_core')))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert out.strip() == "[]"


def test_the_pydantic_model_and_the_plain_config_agree_on_keys():
    from dataclasses import fields

    from lab.taxonomy.config import Limits
    from lab.taxonomy.config_model import LimitsModel, ValidationModel

    assert list(LimitsModel.model_fields) == [f.name for f in fields(Limits)]
    assert list(ValidationModel.model_fields) == [f.name for f in fields(ValidationConfig)]
    assert ValidationConfig.from_mapping({}) == ValidationConfig()  # the defaults pass the model unchanged
    assert ValidationConfig().with_overrides({}) == ValidationConfig()


def test_overrides_are_validated_and_give_a_plain_config():
    config = ValidationConfig.from_mapping({"limits": {"qa_tokens": 3}}).with_overrides({"tokenizer": "tok.json"})
    assert type(config) is ValidationConfig and config.tokenizer == "tok.json" and config.limits.qa_tokens == 3
    assert ValidationConfig().with_overrides({"allow_local_docs": True}).allow_local_docs is True
    with pytest.raises(ValueError, match="^tokenizer: expected a string, got 3$"):
        ValidationConfig().with_overrides({"tokenizer": 3})


def test_lab_validate_without_a_config_file_never_loads_pydantic(tmp_path):
    """No .github/arborist.yml, no --tokenizer, no ARBORIST_ALLOW_LOCAL_DOCS: nothing to validate but the files."""
    import os
    import subprocess
    import sys

    from .conftest import SKILL

    leaf = tmp_path / "compositional_skills" / "animals" / "qna.yaml"
    leaf.parent.mkdir(parents=True)
    leaf.write_text(SKILL, encoding="utf-8")
    code = ("import sys, io, contextlib\nfrom lab.cli import main\n"
            "with contextlib.redirect_stdout(io.StringIO()):\n"
            f"    code = main(['validate', '--taxonomy', {str(tmp_path)!r}])\n"
            "print(code, sorted(m for m in sys.modules if m.split('.')[0] in ('pydantic', 'pydantic_settings')))")
    env = {k: v for k, v in os.environ.items() if k != "ARBORIST_ALLOW_LOCAL_DOCS"}
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True, env=env).stdout
    assert out.split(" ", 1)[1].strip() == "[]"
    (tmp_path / ".github").mkdir()
    (tmp_path / ".github" / "arborist.yml").write_text("validation:\n  severity:\n    no-such-rule: error\n")
    said = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True, env=env)
    assert "pydantic" in said.stdout and "no-such-rule" in said.stderr  # a config file is read, and checked
