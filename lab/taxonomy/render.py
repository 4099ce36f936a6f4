"""Findings rendered four ways: terminal text, JSON, GitHub workflow annotations, SARIF 2.1.0."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import fields
from typing import Any

from lab import __version__
from lab.taxonomy.config import Limits
from lab.taxonomy.findings import FileReport, Finding
from lab.taxonomy.rules import RULES

SARIF_SCHEMA = "https://json.schemastore.org/sarif-2.1.0.json"
TOOL_URI = "https://github.com/arborist-dev/arborist"


def summary(reports: Sequence[FileReport]) -> dict[str, int]:
    findings = [f for r in reports for f in r.findings]
    return {
        "files": len(reports),
        "valid": sum(r.valid for r in reports),
        "invalid": sum(not r.valid for r in reports),
        "errors": sum(f.severity == "error" for f in findings),
        "warnings": sum(f.severity == "warning" for f in findings),
    }


def to_text(reports: Sequence[FileReport], hints: bool = True) -> str:
    """`path:line:col: severity rule-id message` lines (hints indented below), then a summary line."""
    lines = []
    for report in reports:
        for f in report.findings:
            lines.append(f"{f.path}:{f.line}:{f.col}: {f.severity} {f.rule} {f.message}")
            if hints and f.hint:
                lines.append(f"    hint: {f.hint}")
    s = summary(reports)
    lines.append(f"{s['files']} file(s) checked: {s['valid']} valid, {s['invalid']} invalid; "
                 f"{s['errors']} error(s), {s['warnings']} warning(s).")
    return "\n".join(lines) + "\n"


def _finding_dict(f: Finding) -> dict[str, Any]:
    return {"rule": f.rule, "severity": f.severity, "path": f.path, "line": f.line, "col": f.col,
            "message": f.message, "hint": f.hint}


def to_json(reports: Sequence[FileReport]) -> dict[str, Any]:
    return {
        "files": [{"path": r.path, "valid": r.valid, "findings": [_finding_dict(f) for f in r.findings]}
                  for r in reports],
        "summary": summary(reports),
    }


def _escape_data(text: str) -> str:
    return text.replace("%", "%25").replace("\r", "%0D").replace("\n", "%0A")


def _escape_property(text: str) -> str:
    return _escape_data(text).replace(":", "%3A").replace(",", "%2C")


def to_github(reports: Sequence[FileReport]) -> str:
    """GitHub Actions workflow commands (`::error file=...,line=...::message`), one per finding."""
    lines = []
    for report in reports:
        for f in report.findings:
            props = f"file={_escape_property(f.path)},line={max(f.line, 1)},col={max(f.col, 1)}," \
                    f"title={_escape_property(f.rule)}"
            body = f.message + (f"\nHint: {f.hint}" if f.hint else "")
            lines.append(f"::{'error' if f.severity == 'error' else 'warning'} {props}::{_escape_data(body)}")
    return "\n".join(lines) + ("\n" if lines else "")


def to_sarif(reports: Sequence[FileReport]) -> dict[str, Any]:
    """A SARIF 2.1.0 log for GitHub code scanning (one run, every rule described)."""
    rule_ids = list(RULES)
    rules = [{
        "id": rule.id,
        "name": rule.id,
        "shortDescription": {"text": rule.description},
        "defaultConfiguration": {"level": "none" if rule.severity == "off" else rule.severity},
    } for rule in RULES.values()]
    results = []
    for report in reports:
        for f in report.findings:
            location: dict[str, Any] = {"artifactLocation": {"uri": f.path}}
            if f.line > 0:
                location["region"] = {"startLine": f.line, "startColumn": max(f.col, 1)}
            text = f.message + (f" Hint: {f.hint}" if f.hint else "")
            results.append({
                "ruleId": f.rule,
                "ruleIndex": rule_ids.index(f.rule) if f.rule in RULES else -1,
                "level": f.severity,
                "message": {"text": text},
                "locations": [{"physicalLocation": location}],
            })
    return {
        "$schema": SARIF_SCHEMA,
        "version": "2.1.0",
        "runs": [{
            "tool": {"driver": {"name": "arborist", "version": __version__, "informationUri": TOOL_URI,
                                "rules": rules}},
            "results": results,
        }],
    }


def rules_markdown() -> str:
    """The rule reference as Markdown (docs/rules.md is this text; a test keeps it in sync)."""
    lines = [
        "# Validation rules",
        "",
        "Generated from `lab.taxonomy.rules.RULES`. Change a rule's severity in `.github/arborist.yml`:",
        "",
        "```yaml",
        "validation:",
        "  severity:",
        "    context-too-long: error   # error | warning | off",
        "```",
        "",
        "`upstream` marks rules whose verdict the reference InstructLab tools share; the others are stricter.",
        "",
        "| rule | default | upstream | what it catches |",
        "| --- | --- | --- | --- |",
    ]
    for rule in RULES.values():
        lines.append(f"| `{rule.id}` | {rule.severity} | {'yes' if rule.upstream else ''} | {rule.description} |")
    lines += ["", "## Limits (`validation.limits`)", "", "| setting | default |", "| --- | --- |"]
    lines += [f"| `{f.name}` | {f.default} |" for f in fields(Limits)]
    lines += ["", "Token counts use the tokenizer given to `lab validate --tokenizer` (a tokenizer.json) when set; otherwise an",
              "estimate: the larger of 4/3 tokens per word and one token per 4 characters."]
    return "\n".join(lines) + "\n"
