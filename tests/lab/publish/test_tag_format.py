"""A release tag format names only the documented fields, as plain values: it can never read the process."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from lab.cli import main as lab_main
from lab.publish import PublishError, ReleaseInfo, format_tag
from lab.taxonomy.repoconfig import load_repo_config
from schemas.tag_format import FIELDS, TagFormatError, check_tag_format, render_tag_format

SECRET = "hf_TAGleakCanary0000000000000042"
SHA = "abcdef0123456789" * 2 + "abcdef01"
WHEN = datetime(2026, 11, 25, 7, 30, tzinfo=UTC)
HOSTILE = [
    "{date.__format__.__globals__[os].environ[HF_TOKEN]}",  # the reproduced leak
    "v{date.__class__.__init__.__globals__}",
    "{sha.__class__}",
    "{sha[0]}",
    "{date!r}",
    "{sha!s}",
    "{0}",
    "{}",
    "{date:{sha}}",  # a nested field in the spec
    "{sha:>99999999}",  # a spec that would build a huge string
    "{date:%Y%n}",
    "{nope}",
    "v{date",
    "x" * 101,
]


@pytest.mark.parametrize("template", HOSTILE)
def test_hostile_tag_formats_are_refused_with_the_allowed_fields(template, monkeypatch):
    monkeypatch.setenv("HF_TOKEN", SECRET)
    with pytest.raises(TagFormatError) as caught:
        check_tag_format(template)
    message = str(caught.value)
    assert "allowed fields: {date}" in message and "{shortsha}" in message
    assert SECRET not in message
    info = ReleaseInfo(taxonomy_repo="acme/taxonomy", taxonomy_sha=SHA, date=WHEN, tag_format=template)
    with pytest.raises(PublishError, match="allowed fields"):
        format_tag(info)


@pytest.mark.parametrize(("template", "tag"), [
    ("v{date}-{shortsha}", "v20261125-abcdef0"),
    ("v{date:%Y.%m.%d}-{short_sha}", "v2026.11.25-abcdef0"),
    ("r{date:%Y%m%d-%H%M}", "r20261125-0730"),
    ("{sha}", SHA),
])
def test_documented_fields_render_as_plain_values(template, tag):
    assert render_tag_format(template, WHEN, SHA) == tag
    assert set(FIELDS) == {"date", "sha", "shortsha", "short_sha"}


def test_repo_config_with_a_hostile_tag_format_keeps_the_default_and_says_why():
    raw = b"release:\n  repo_id: acme/model\n  tag_format: '{date.__format__.__globals__}'\ngenerate:\n  samples: 3\n"
    config, problems = load_repo_config(raw)
    assert config.release.tag_format == "v{date}-{shortsha}" and config.release.repo_id is None
    assert config.generate.samples == 3  # the other sections still apply
    assert any("allowed fields" in p and "release.tag_format" in p for p in problems)


def test_lab_publish_refuses_a_hostile_tag_format_before_anything_is_sent(tmp_path, capsys, monkeypatch):
    monkeypatch.setenv("HF_TOKEN", SECRET)
    code = lab_main(["publish", str(tmp_path), "--dir", str(tmp_path / "out"), "--taxonomy-repo", "acme/t",
                     "--taxonomy-sha", SHA, "--gguf", "", "--tag-format", "v{date.__format__.__globals__}"])
    err = capsys.readouterr().err
    assert code == 2 and "allowed fields" in err and SECRET not in err
    assert not (tmp_path / "out").exists()
