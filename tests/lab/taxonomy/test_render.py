"""Findings render as terminal text, JSON, GitHub annotations and SARIF 2.1.0, and the rule docs stay current."""

from __future__ import annotations

import json

from lab.taxonomy import RULES
from lab.taxonomy.findings import FileReport, Finding
from lab.taxonomy.render import rules_markdown, to_github, to_json, to_sarif, to_text

from .conftest import REPO

REPORTS = [
    FileReport("knowledge/a/qna.yaml", [
        Finding("schema", "error", "knowledge/a/qna.yaml", 3, 5, "`domain` is missing, 100%: really", "Add it,\nnow."),
        Finding("attribution-license", "warning", "knowledge/a/attribution.txt", 0, 0, "Not SPDX.", ""),
    ]),
    FileReport("compositional_skills/b/qna.yaml", []),
]


def test_text_has_one_line_per_finding_with_position_severity_and_rule_then_a_summary():
    lines = to_text(REPORTS).splitlines()
    assert lines[0] == "knowledge/a/qna.yaml:3:5: error schema `domain` is missing, 100%: really"
    assert lines[1].startswith("    hint: Add it,")
    assert "knowledge/a/attribution.txt:0:0: warning attribution-license Not SPDX." in lines
    assert lines[-1] == "2 file(s) checked: 1 valid, 1 invalid; 1 error(s), 1 warning(s)."


def test_json_matches_the_documented_shape():
    data = json.loads(json.dumps(to_json(REPORTS)))
    assert data["summary"] == {"files": 2, "valid": 1, "invalid": 1, "errors": 1, "warnings": 1}
    first = data["files"][0]
    assert first["path"] == "knowledge/a/qna.yaml" and first["valid"] is False
    assert {k: first["findings"][0][k] for k in ("rule", "severity", "line", "col")} == \
        {"rule": "schema", "severity": "error", "line": 3, "col": 5}
    assert set(first["findings"][0]) >= {"rule", "severity", "line", "col", "message", "hint"}


def test_github_annotations_escape_newlines_percent_and_property_separators():
    lines = to_github(REPORTS).splitlines()
    assert lines[0] == ("::error file=knowledge/a/qna.yaml,line=3,col=5,title=schema::"
                        "`domain` is missing, 100%25: really%0AHint: Add it,%0Anow.")
    assert lines[1].startswith("::warning file=knowledge/a/attribution.txt,line=1,col=1,")


def test_sarif_is_a_2_1_0_log_with_rules_and_located_results():
    log = to_sarif(REPORTS)
    assert log["version"] == "2.1.0"
    run = log["runs"][0]
    rule_ids = [r["id"] for r in run["tool"]["driver"]["rules"]]
    assert rule_ids == list(RULES)
    first, second = run["results"]
    assert first["ruleId"] == "schema" and rule_ids[first["ruleIndex"]] == "schema"
    assert first["level"] == "error"
    assert first["locations"][0]["physicalLocation"] == {
        "artifactLocation": {"uri": "knowledge/a/qna.yaml"}, "region": {"startLine": 3, "startColumn": 5}}
    assert "region" not in second["locations"][0]["physicalLocation"]  # whole-file finding
    json.dumps(log)


def test_rules_doc_is_generated_from_the_registry():
    doc = (REPO / "docs" / "rules.md").read_text(encoding="utf-8")
    assert doc == rules_markdown(), "docs/rules.md is stale: regenerate it with rules_markdown()"
    assert all(f"`{rule}`" in doc for rule in RULES)
