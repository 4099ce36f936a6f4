"""Test data for PR validation: a valid skill leaf, a broken one, and a local validator stand-in.

`taxonomy_api()` returns lab.taxonomy's real functions once they exist, else a small stand-in with
the same names and contract, so the handler tests run before and after lab.taxonomy lands.
"""

from __future__ import annotations

import posixpath
from collections.abc import Callable

import yaml

from lab.taxonomy.findings import FileReport, Finding

SKILL_PATH = "compositional_skills/writing/plain_words/qna.yaml"
ATTRIBUTION_PATH = "compositional_skills/writing/plain_words/attribution.txt"
KNOWLEDGE_PATH = "knowledge/science/tides/qna.yaml"

_EXAMPLES = [
    ("The committee deliberated extensively before reaching a consensus.", "Say this in plain words.",
     "The group talked a lot and then agreed."),
    ("Precipitation is anticipated throughout the afternoon.", "How would you put this simply?",
     "It will probably rain this afternoon."),
    ("The vehicle sustained considerable damage in the collision.", "Rewrite this for a child.",
     "The car was badly damaged in the crash."),
    ("Remuneration will be disbursed on a fortnightly basis.", "What does this sentence mean?",
     "You will be paid every two weeks."),
    ("The edifice was constructed in the nineteenth century.", "Make this sentence easier to read.",
     "The building was built in the 1800s."),
]


def valid_skill() -> str:
    lines = ["version: 3", "created_by: arborist-tests", "task_description: Rewrite formal sentences in plain words",
             "seed_examples:"]
    for context, question, answer in _EXAMPLES:
        lines += [f"  - context: {context}", f"    question: {question}", f"    answer: {answer}"]
    return "\n".join(lines) + "\n"


def broken_skill() -> tuple[str, int]:
    """A skill leaf with a YAML syntax error (a second colon in a plain value); returns text and bad line."""
    text = valid_skill().splitlines()
    bad_line = 6
    text[bad_line - 1] = "    question: Say this: in plain words."
    return "\n".join(text) + "\n", bad_line


ATTRIBUTION = ("Title of work: Plain words examples\nLink to work: https://example.org/plain-words\n"
               "License of the work: Apache-2.0\nCreator names: Arborist tests\n")


# ---- a stand-in for lab.taxonomy, used until the real one lands -----------------------------------
def _is_taxonomy_file(path: str) -> bool:
    return posixpath.basename(path) == "qna.yaml" and path.split("/")[0] in (
        "knowledge", "compositional_skills", "foundational_skills")


def _label_for(path: str) -> str | None:
    if not _is_taxonomy_file(path):
        return None
    return "knowledge" if path.startswith("knowledge/") else "skill"


def _validate_files(paths, read, config=None) -> list[FileReport]:
    reports = []
    for path in paths:
        report = FileReport(path)
        data = read(path)
        if data is None:
            report.findings.append(Finding("not-a-file", "error", path, 0, 0, "the file is missing", "add it"))
        else:
            try:
                yaml.safe_load(data)
            except yaml.YAMLError as exc:
                mark = getattr(exc, "problem_mark", None) or getattr(exc, "context_mark", None)
                line = mark.line + 1 if mark else 0
                report.findings.append(Finding("yaml-syntax", "error", path, line, 1, "the YAML cannot be parsed",
                                               "close the quote"))
            sibling = posixpath.join(posixpath.dirname(path), "attribution.txt")
            if read(sibling) is None:
                report.findings.append(Finding("attribution-missing", "error", path, 0, 0,
                                               "no attribution.txt", "add attribution.txt"))
        reports.append(report)
    return reports


class _StandinConfig:
    @classmethod
    def from_mapping(cls, data):
        return None


def taxonomy_api() -> tuple[Callable, Callable, Callable, object]:
    try:
        from bot.handlers.pull_request import _taxonomy_api

        return _taxonomy_api()
    except (ImportError, AttributeError):
        return _validate_files, _is_taxonomy_file, _label_for, _StandinConfig
