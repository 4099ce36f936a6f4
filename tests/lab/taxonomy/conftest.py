"""Small valid taxonomy files to mutate, and a helper that validates bytes as the bot does."""

from __future__ import annotations

from pathlib import Path

import pytest

from lab.taxonomy import ValidationConfig, validate_files
from lab.taxonomy.findings import Finding

REPO = Path(__file__).resolve().parents[3]
EXAMPLES = REPO / "examples" / "taxonomy"
SKILL_PATH = "compositional_skills/animals/riddles/qna.yaml"
KNOWLEDGE_PATH = "knowledge/science/astronomy/moon_phases/qna.yaml"

SKILL = """\
version: 3
created_by: tester
task_description: Answer riddles about animals.
seed_examples:
  - question: Which animal has a trunk and very big ears?
    answer: An elephant.
  - question: What striped horse lives on the African savanna?
    answer: A zebra.
  - question: Which bird cannot fly but swims in icy seas?
    answer: A penguin.
  - question: Name the slow animal that carries its house on its back.
    answer: A snail, or a tortoise.
  - question: What insect makes honey?
    answer: The honey bee.
"""

ATTRIBUTION = b"""\
Title of work: Animal riddles
Link to work: https://example.org/riddles
License of the work: CC-BY-SA-4.0
Creator names: Tester
"""


def knowledge_text() -> str:
    return (EXAMPLES / KNOWLEDGE_PATH).read_text(encoding="utf-8")


def check(text: str | bytes | None, path: str = SKILL_PATH, attribution: bytes | None = ATTRIBUTION,
          config: ValidationConfig | None = None, index=None) -> list[Finding]:
    """Validate one file's bytes (and its sibling attribution.txt) through the bot's entry point."""
    data = text.encode("utf-8") if isinstance(text, str) else text
    folder = path.rsplit("/", 1)[0]
    files = {path: data, f"{folder}/attribution.txt": attribution}
    return validate_files([path], files.get, config, index=index)[0].findings


def rules_of(findings: list[Finding], severity: str | None = None) -> set[str]:
    return {f.rule for f in findings if severity is None or f.severity == severity}


@pytest.fixture
def skill_text() -> str:
    return SKILL
