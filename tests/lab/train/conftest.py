"""Small messages-format data sets for training tests, written the way `lab generate` writes them."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

SYSTEM = "You are a helpful assistant."
KNOWLEDGE_QA = [
    ("What is the capital of France?", "Paris is the capital of France."),
    ("How many legs does a spider have?", "A spider has eight legs."),
    ("Why is the sky blue?", "Rayleigh scattering of sunlight."),
    ("What colour is grass?", "Grass is green."),
]
SKILLS_QA = [
    ("Rewrite politely: give me water", "Could you please give me some water?"),
    ("Summarise: the fox jumps over the dog", "A fox jumps over a dog."),
]


def record(question: str, answer: str, leaf: str, system: str | None = SYSTEM) -> dict:
    messages = [{"role": "system", "content": system}] if system else []
    messages += [{"role": "user", "content": question}, {"role": "assistant", "content": answer}]
    return {"messages": messages, "metadata": {"leaf": leaf}}


def write_data(folder: Path, knowledge=KNOWLEDGE_QA, skills=SKILLS_QA) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    if knowledge:
        with open(folder / "knowledge_train_msgs.jsonl", "w", encoding="utf-8") as handle:
            for q, a in knowledge:
                handle.write(json.dumps(record(q, a, "knowledge/facts/qna.yaml")) + "\n")
    if skills:
        with open(folder / "skills_train_msgs.jsonl", "w", encoding="utf-8") as handle:
            for q, a in skills:
                handle.write(json.dumps(record(q, a, "compositional_skills/writing/qna.yaml", None)) + "\n")
    return folder


@pytest.fixture
def data_dir(tmp_path) -> Path:
    return write_data(tmp_path / "data")


def read_metrics(out: Path) -> list[dict]:
    return [json.loads(line) for line in (out / "metrics.jsonl").read_text().splitlines() if line.strip()]


def comparable(metrics: list[dict]) -> list[tuple]:
    """What must match between runs: everything but the wall-clock figures."""
    return [(m["phase"], m["step"], m["loss"], m["lr"]) for m in metrics]
