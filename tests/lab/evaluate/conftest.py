"""A small taxonomy of our own and a tiny model trained on its seed questions, shared by evaluation tests."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

FACTS = [
    ("What is the capital of France?", "Paris is the capital of France."),
    ("How many legs does a spider have?", "A spider has eight legs."),
    ("Why is the sky blue?", "Rayleigh scattering of sunlight."),
    ("What colour is grass?", "Grass is green."),
]
EXTRACTION = [
    ("Alice will send the notes on Monday.", "Who sends the notes?", "Alice sends the notes."),
    ("Bob books the room for Friday.", "Who books the room?", "Bob books the room."),
    ("Carol reviews the draft by noon.", "Who reviews the draft?", "Carol reviews the draft."),
]


def _block(text: str, indent: int) -> str:
    pad = " " * indent
    return "|\n" + "\n".join(pad + line for line in text.splitlines())


def write_taxonomy(root: Path) -> Path:
    """A freeform skill leaf and a grounded skill leaf, valid InstructLab v2 files."""
    facts = root / "compositional_skills" / "trivia" / "facts"
    facts.mkdir(parents=True)
    seeds = "".join(f"  - question: {_block(q, 6)}\n    answer: {_block(a, 6)}\n" for q, a in FACTS)
    (facts / "qna.yaml").write_text(f"version: 2\ncreated_by: tester\ntask_description: Answer trivia.\nseed_examples:\n{seeds}")
    extraction = root / "compositional_skills" / "grounded" / "owners"
    extraction.mkdir(parents=True)
    seeds = "".join(f"  - context: {_block(c, 6)}\n    question: {_block(q, 6)}\n    answer: {_block(a, 6)}\n"
                    for c, q, a in EXTRACTION)
    (extraction / "qna.yaml").write_text(f"version: 2\ncreated_by: tester\ntask_description: Find owners.\nseed_examples:\n{seeds}")
    return root


def seed_training_data(taxonomy: Path, out: Path) -> Path:
    """Training rows from the seeds themselves, formatted as `lab generate` formats them."""
    from lab.evaluate.items import load_leaves
    from lab.generate.output import make_row

    leaves, _ = load_leaves(taxonomy)
    out.mkdir(parents=True, exist_ok=True)
    with open(out / "skills_train_msgs.jsonl", "w", encoding="utf-8") as handle:
        for leaf in leaves:
            for seed in leaf.seeds:
                handle.write(json.dumps(make_row(leaf, seed.question, seed.answer, seed.context, {})) + "\n")
    return out


@pytest.fixture(scope="session")
def taxonomy_root(tmp_path_factory) -> Path:
    return write_taxonomy(tmp_path_factory.mktemp("taxonomy"))


@pytest.fixture(scope="session")
def trained_dir(tiny_llama_dir, taxonomy_root, tmp_path_factory) -> Path:
    from lab.train.config import TrainConfig
    from lab.train.trainer import RunOptions, train

    work = tmp_path_factory.mktemp("trained")
    data = seed_training_data(taxonomy_root, work / "data")
    config = TrainConfig(cpu_threads=1, mode="stacked", knowledge_epochs=80, save_every_steps=1000)
    summary = train(data, str(tiny_llama_dir), work / "out", config, RunOptions(progress=False, log=lambda s: None))
    return Path(summary["final"])
