"""Leaves written for these tests (one per kind), and a tiny GGUF teacher built from the tiny Llama."""

from __future__ import annotations

from pathlib import Path

import pytest

from lab.taxonomy.leaf import Leaf, leaf_from_yaml

# The InstructLab synonyms leaf's shape: list skills whose seeds name a count ("List five ...").
SYNONYMS_LEAF = b"""version: 3
created_by: tester
task_description: to teach a large language model to list the synonyms for a word.
seed_examples:
  - question: List a synonym for the word attend.
    answer: Synonym for Attend is take part in
  - question: List two synonyms for the word attend and separate with newline.
    answer: "Two synonyms for Attend are\\ntake part in\\nbe present at"
  - question: List five synonyms for the word beautiful and separate with newline.
    answer: "Five synonyms for Beautiful are\\nattractive\\npretty\\ngorgeous\\ngood-looking\\nhandsome"
"""

FREEFORM = b"""version: 2
created_by: tester
task_description: Give a synonym of an English word.
seed_examples:
  - question: What is a synonym for happy?
    answer: Joyful.
  - question: Give me a word that means the same as quick.
    answer: Rapid.
  - question: Which word can replace big in a sentence?
    answer: Large.
  - question: Name a synonym of the adjective cold.
    answer: Chilly.
  - question: Suggest another word for tired.
    answer: Exhausted.
"""

GROUNDED = b"""version: 2
created_by: tester
task_description: Rewrite a paragraph in plain words for a young reader.
seed_examples:
  - context: Photosynthesis converts light energy into chemical energy stored in glucose molecules within chloroplasts.
    question: Rewrite this for a ten year old.
    answer: Plants use sunlight to make sugar inside tiny green parts of their leaves.
  - context: Volcanic eruptions expel magma, ash and gases from beneath the crust of the planet through vents.
    question: Say this more simply.
    answer: Volcanoes push hot melted rock, ash and gas up from deep under the ground.
  - context: Glaciers advance and retreat as accumulated snowfall compacts into dense ice that flows under gravity.
    question: Explain this in easy words.
    answer: Glaciers are big rivers of ice that slowly move downhill and grow or shrink.
"""

KNOWLEDGE_TEMPLATE = """version: 3
created_by: tester
domain: astronomy
document_outline: Facts about the planet Mars.
seed_examples:
  - context: Mars is the fourth planet from the Sun and has two small moons named Phobos and Deimos.
    questions_and_answers:
      - question: How many moons does Mars have?
        answer: Two, Phobos and Deimos.
      - question: Which planet from the Sun is Mars?
        answer: The fourth.
      - question: What are the names of the moons of Mars?
        answer: Phobos and Deimos.
document:
  repo: {repo}
  commit: {commit}
  patterns:
    - "*.md"
"""

MARS_DOC = """# Mars

Mars is the fourth planet from the Sun. It has a thin atmosphere made mostly of carbon dioxide.

## Moons

Mars has two small moons, Phobos and Deimos, which may be captured asteroids.

## Surface

Olympus Mons on Mars is the tallest volcano in the solar system. Valles Marineris is a canyon system
that stretches for thousands of kilometres across the planet's surface.
"""


@pytest.fixture
def freeform_leaf() -> Leaf:
    return leaf_from_yaml("compositional_skills/linguistics/synonyms/qna.yaml", FREEFORM)


@pytest.fixture
def grounded_leaf() -> Leaf:
    return leaf_from_yaml("compositional_skills/grounded/writing/simplify/qna.yaml", GROUNDED)


def make_doc_repo(where: Path) -> tuple[Path, str]:
    """A local git repository holding the Mars document; returns (path, commit)."""
    import subprocess

    where.mkdir(parents=True, exist_ok=True)
    (where / "mars.md").write_text(MARS_DOC)
    (where / "notes.txt").write_text("not markdown: must be ignored\n")
    env = {"GIT_AUTHOR_NAME": "t", "GIT_AUTHOR_EMAIL": "t@example.com", "GIT_COMMITTER_NAME": "t",
           "GIT_COMMITTER_EMAIL": "t@example.com", "HOME": str(where), "PATH": "/usr/bin:/bin"}
    for cmd in (["init", "-q"], ["add", "."], ["commit", "-q", "-m", "doc"]):
        subprocess.run(["git", *cmd], cwd=where, check=True, env=env)
    commit = subprocess.run(["git", "rev-parse", "HEAD"], cwd=where, check=True, capture_output=True, text=True,
                            env=env).stdout.strip()
    return where, commit


@pytest.fixture
def knowledge_leaf(tmp_path) -> Leaf:
    repo, commit = make_doc_repo(tmp_path / "docs-repo")
    text = KNOWLEDGE_TEMPLATE.format(repo=repo, commit=commit)
    return leaf_from_yaml("knowledge/astronomy/mars/qna.yaml", text.encode())


@pytest.fixture(scope="session")
def tiny_gguf(tiny_llama_dir, tmp_path_factory) -> Path:
    """The tiny random Llama as a GGUF file (byte tokens and token types included by the exporter)."""
    from lab.models.gguf_export import export_gguf

    return export_gguf(tiny_llama_dir, tmp_path_factory.mktemp("gguf") / "tiny.gguf")
