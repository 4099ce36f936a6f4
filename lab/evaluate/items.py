"""Evaluation items: each leaf's seed questions, prompted exactly as the training data is formatted."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from lab.taxonomy.leaf import Leaf, leaf_from_yaml

MAX_LEAF_BYTES = 1024 * 1024


@dataclass(frozen=True)
class EvalItem:
    leaf: str  # leaf path
    domain: str
    kind: str
    question: str
    reference: str
    messages: tuple[dict[str, str], ...]  # the prompt: system + user (with context for grounded skills)


def prompt_messages(leaf: Leaf, question: str, context: str | None) -> list[dict[str, str]]:
    """The prompt as generation writes training rows (so the student sees its training format)."""
    from lab.generate.output import make_row

    return make_row(leaf, question, "", context, {})["messages"][:-1]


def items_from_leaves(leaves: list[Leaf]) -> list[EvalItem]:
    items = []
    for leaf in leaves:
        for seed in leaf.seeds:
            if not seed.question or not seed.answer:
                continue
            messages = tuple(prompt_messages(leaf, seed.question, seed.context))
            items.append(EvalItem(leaf.path, leaf.domain, leaf.kind, seed.question, seed.answer, messages))
    return items


def load_leaves(root: str | Path) -> tuple[list[Leaf], list[str]]:
    """Every readable leaf under a taxonomy root, and a message for each one that could not be read."""
    from lab.taxonomy.discover import find_leaves

    root = Path(root)
    leaves, problems = [], []
    for rel in find_leaves(root):
        path = root / rel
        if path.stat().st_size > MAX_LEAF_BYTES:
            problems.append(f"{rel}: too large to evaluate")
            continue
        try:
            leaves.append(leaf_from_yaml(rel, path.read_bytes()))
        except Exception as exc:  # noqa: BLE001 - yaml and shape errors alike are reported, not fatal
            problems.append(f"{rel}: {exc}")
    return leaves, problems
