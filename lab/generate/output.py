"""Write generated rows as InstructLab "messages" JSONL, streamed: nothing holds the whole dataset.

The layout of an output folder and the shape of a row are the generate -> train contract, defined
once in `schemas.datacontract` (the runner writes its manifest last).
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import IO, Any

from lab.generate.prompts import TRAINING_SYSTEM_PROMPT
from lab.taxonomy.leaf import Leaf
from schemas.datacontract import KNOWLEDGE_FILE, LEAVES_DIR, SKILLS_FILE, leaf_file, merged_file, messages_row


def leaf_id(leaf: Leaf) -> str:
    """A file-name-safe id from the leaf's folder: compositional_skills/a/b/qna.yaml -> compositional_skills.a.b"""
    folder = leaf.path.rsplit("/", 1)[0] if "/" in leaf.path else leaf.path
    return "".join(c if c.isalnum() or c in "-_" else "." for c in folder.replace("/", ".")) or "leaf"


def conversation_start() -> list[dict[str, str]]:
    """The turns every training row opens with (the system prompt): evaluation and `lab chat` open the same way."""
    return [{"role": "system", "content": TRAINING_SYSTEM_PROMPT}]


def make_row(leaf: Leaf, question: str, answer: str, context: str | None, meta: dict[str, Any],
             document: str | None = None) -> dict[str, Any]:
    """One training example. Grounded skills put the input text before the instruction, as InstructLab
    does; a knowledge question given its `document` chunk carries it the same way (InstructLab's
    knowledge data), and `metadata.question` then keeps the bare question."""
    before = context if context and leaf.kind == "grounded_skill" else document
    user = f"{before}\n\n{question}" if before else question
    if document and before is document:
        meta = {**meta, "question": question, "document_in_prompt": True}
    messages = [*conversation_start(), {"role": "user", "content": user}, {"role": "assistant", "content": answer}]
    return messages_row(messages, {"leaf": leaf.path, "kind": leaf.kind, "leaf_hash": leaf.content_hash, **meta})


def dumps(row: dict[str, Any]) -> str:
    return json.dumps(row, ensure_ascii=False) + "\n"


class DatasetWriter:
    """Owns the merged files for a run; `open_leaf` gives the per-leaf file."""

    def __init__(self, out_dir: Path | str) -> None:
        self.out_dir = Path(out_dir)
        (self.out_dir / LEAVES_DIR).mkdir(parents=True, exist_ok=True)
        self.merged: dict[str, IO[str]] = {name: open(self.out_dir / name, "w", encoding="utf-8")
                                           for name in (KNOWLEDGE_FILE, SKILLS_FILE)}

    def open_leaf(self, leaf: Leaf) -> LeafWriter:
        return LeafWriter(self.out_dir / leaf_file(leaf_id(leaf)), self.merged[merged_file(leaf.kind)])

    def close(self) -> None:
        for fh in self.merged.values():
            fh.close()

    def __enter__(self) -> DatasetWriter:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


class LeafWriter:
    def __init__(self, path: Path, merged: IO[str]) -> None:
        self.path = path
        self.fh: IO[str] = open(path, "w", encoding="utf-8")
        self.merged = merged
        self.rows = 0

    def write_line(self, line: str) -> None:
        self.fh.write(line)
        self.merged.write(line)
        self.rows += 1

    def close(self) -> None:
        self.fh.close()
        self.merged.flush()
