"""Knowledge documents must be pinned, public and inside their repository; attribution.txt is hostile too."""

from __future__ import annotations

import pytest

from lab.taxonomy.attribution import is_spdx_expression, spdx_suggestion
from lab.taxonomy.content import pattern_escapes, repo_problem
from lab.taxonomy.tokens import estimate_tokens

from .conftest import SKILL, check, rules_of


@pytest.mark.parametrize("url", [
    "file:///etc/passwd", "http://github.com/a/b", "ssh://git@github.com/a/b", "git@github.com:a/b.git",
    "https://localhost/a", "https://127.0.0.1/a", "https://10.1.2.3/a", "https://192.168.0.10/a",
    "https://169.254.169.254/latest/meta-data", "https://[::1]/a", "https://[fe80::1]/a",
    "https://user:secret@github.com/a/b", "https://intranet/a", "https://build.internal/a", "https://",
])
def test_unsafe_document_repositories_are_refused(url):
    assert repo_problem(url)


@pytest.mark.parametrize("url", ["https://github.com/instructlab/taxonomy", "https://gitlab.com/a/b.git",
                                 "https://8.8.8.8/a"])
def test_public_https_repositories_are_accepted(url):
    assert repo_problem(url) is None


# Hosts that git (libcurl) and libc's inet_aton read as internal addresses, in every spelling they accept.
INSIDE = ["https://0x7f.1/a", "https://127.1/a", "https://0177.0.0.1/a", "https://2130706433/a",
          "https://2130706433./a", "https://0x7f000001/a", "https://0X7F.0.0.1/a", "https://localhost./a",
          "https://LOCALHOST/a", "https://docs.localhost/a", "https://127.0.0.1./a", "https://0/a",
          "https://0.0.0.0/a", "https://169.254.169.254./a", "https://0xa9.0xfe.0xa9.0xfe/a",
          "https://2852039166/a", "https://0251.0376.0251.0376/a", "https://10.1/a", "https://0xc0.0xa8.1/a",
          "https://[::ffff:127.0.0.1]/a", "https://[::ffff:7f00:1]/a", "https://[64:ff9b::7f00:1]/a",
          "https://[::127.0.0.1]/a", "https://[fe80::1%25eth0]/a", "https://[2002:7f00:1::]/a", "https://[::]/a",
          "https://[ff02::1]/a", "https://224.0.0.1/a", "https://100.64.0.1/a", "https://240.0.0.1/a",
          "https://\uff4c\uff4f\uff43\uff41\uff4c\uff48\uff4f\uff53\uff54/a", "https://1.2.3.08/a",
          "https://host:notaport/a"]


@pytest.mark.parametrize("url", INSIDE)
def test_internal_hosts_in_any_spelling_git_accepts_are_refused(url):
    problem = repo_problem(url)
    assert problem and "document.repo" in problem


def test_local_repositories_pass_only_with_the_opt_in():
    for url in ("file:///srv/docs", "/srv/docs", "docs-mirror"):
        assert repo_problem(url) and "--allow-local-docs" in repo_problem(url)
        assert repo_problem(url, allow_local=True) is None
    for url in ("http://github.com/a/b", "https://127.1/a", "git@github.com:a/b.git"):
        assert repo_problem(url, allow_local=True)


@pytest.mark.parametrize("pattern, escapes", [
    ("docs/*.md", False), ("*.md", False), ("a..b.md", False), ("../x.md", True), ("docs/../../x", True),
    ("/etc/passwd", True), ("\\\\server\\share", True), ("C:/x.md", True), ("~/notes.md", True),
    ("docs\\..\\x", True),
])
def test_patterns_that_leave_the_repository_are_found(pattern, escapes):
    assert pattern_escapes(pattern) is escapes


def test_credentials_in_a_repo_url_are_not_echoed_back():
    from .conftest import KNOWLEDGE_PATH, knowledge_text

    text = knowledge_text().replace("https://github.com/arborist-examples/astronomy-notes",
                                    "https://bot:ghp_s3cr3t@github.com/arborist-examples/astronomy-notes")
    findings = [f for f in check(text, path=KNOWLEDGE_PATH) if f.rule == "document-repo"]
    assert findings and all("ghp_s3cr3t" not in f.message + f.hint for f in findings)


@pytest.mark.parametrize("attribution, rule", [
    (b"Title of work: x\x00\x00", "attribution-fields"),
    (b"Title of work: \xff\xfe\n", "attribution-fields"),
    (b"Title of work: x\n" * 20_000, "attribution-too-large"),
    (b"Title of work: x" + b" " * 90_000 + b"y\n", "attribution-fields"),
])
def test_hostile_attribution_files_become_findings(attribution, rule):
    findings = check(SKILL, attribution=attribution)
    assert rule in rules_of(findings)
    assert all(f.path.endswith("attribution.txt") for f in findings if f.rule == rule)


def test_license_spelled_in_words_gets_the_spdx_id_suggested():
    assert spdx_suggestion("CC BY-NC-SA 4.0") == "CC-BY-NC-SA-4.0"
    assert spdx_suggestion("Apache License Version 2.0.") == "Apache-2.0"
    assert is_spdx_expression("MIT OR Apache-2.0")
    assert not is_spdx_expression("public domain")


def test_token_estimate_counts_words_and_guards_text_without_spaces():
    assert estimate_tokens("one two three") == 4
    assert estimate_tokens("月" * 400) == 100


def test_a_30_mb_attribution_file_is_an_error_and_the_leaf_is_invalid(tmp_path):
    from lab.taxonomy import validate_paths

    leaf = tmp_path / "compositional_skills" / "animals" / "riddles"
    leaf.mkdir(parents=True)
    (leaf / "qna.yaml").write_text(SKILL)
    (leaf / "attribution.txt").write_bytes(b"Title of work: x\nLicense of the work: MIT\n" + b"y" * 30_000_000)
    reports = validate_paths([leaf], root=tmp_path)
    errors = [f for r in reports for f in r.errors]
    assert [(f.rule, f.path) for f in errors] == [("attribution-too-large", "compositional_skills/animals/riddles/attribution.txt")]
    assert "100,000 bytes" in errors[0].message
    assert not all(r.valid for r in reports)
