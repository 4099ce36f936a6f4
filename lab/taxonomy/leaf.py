"""A taxonomy leaf as plain data: what generation, evaluation and publishing need from a qna.yaml.

Validation decides whether a file is acceptable; this module only reads an already-valid file
into a normalised shape, so the rest of the library never walks raw YAML.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from typing import Any, Literal

from lab.taxonomy.config import Limits
from lab.taxonomy.loader import load_yaml

LeafKind = Literal["knowledge", "freeform_skill", "grounded_skill"]
TAXONOMY_ROOTS = ("knowledge", "compositional_skills", "foundational_skills")


@dataclass(frozen=True)
class SeedExample:
    question: str
    answer: str
    context: str | None = None  # knowledge: the seed's context; grounded skills: the input text


@dataclass(frozen=True)
class Document:
    """Where a knowledge leaf's source documents live: a git repo pinned to a commit."""

    repo: str
    commit: str
    patterns: tuple[str, ...]


@dataclass(frozen=True)
class Leaf:
    path: str  # repository-relative path of the qna.yaml
    kind: LeafKind
    version: int
    created_by: str
    description: str  # task_description (skills) or domain (knowledge)
    seeds: tuple[SeedExample, ...]
    document: Document | None
    content_hash: str  # sha256 of the file's bytes: the cache key of everything derived from it

    @property
    def domain(self) -> str:
        """First folder under the taxonomy root, e.g. 'science' for knowledge/science/..."""
        parts = self.path.split("/")
        return parts[1] if len(parts) > 2 else parts[0]


def _text(value: Any) -> str:
    return "" if value is None else str(value).strip()


def leaf_from_yaml(path: str, data: bytes) -> Leaf:
    """Read a valid qna.yaml's bytes into a Leaf. Raises ValueError on a shape validation would reject."""
    loaded = load_yaml(data, Limits())  # bounded even when validation was skipped (--no-validate)
    if loaded.fatal:
        first = loaded.issues[0]
        raise ValueError(f"{path}:{first.line}:{first.col}: {first.message}")
    doc = loaded.data
    if not isinstance(doc, dict):
        raise ValueError(f"{path}: top level is not a mapping")
    version = doc.get("version", 1)
    version = version if isinstance(version, int) and not isinstance(version, bool) else 1
    is_knowledge = path.startswith("knowledge/") or (
        not path.startswith(TAXONOMY_ROOTS[1:]) and "document" in doc
    )
    seeds: list[SeedExample] = []
    for example in doc.get("seed_examples") or []:
        if not isinstance(example, dict):
            raise ValueError(f"{path}: a seed example is not a mapping")
        context = _text(example.get("context")) or None
        pairs = example.get("questions_and_answers")
        if isinstance(pairs, list):  # knowledge v3: one context, several Q&A pairs
            seeds.extend(SeedExample(_text(p.get("question")), _text(p.get("answer")), context) for p in pairs)
        else:
            seeds.append(SeedExample(_text(example.get("question")), _text(example.get("answer")), context))
    document = None
    raw_doc = doc.get("document")
    if isinstance(raw_doc, dict):
        patterns = raw_doc.get("patterns") or []
        document = Document(_text(raw_doc.get("repo")), _text(raw_doc.get("commit")), tuple(str(p) for p in patterns))
    if is_knowledge:
        kind: LeafKind = "knowledge"
    elif any(seed.context for seed in seeds):
        kind = "grounded_skill"
    else:
        kind = "freeform_skill"
    return Leaf(
        path=path,
        kind=kind,
        version=version,
        created_by=_text(doc.get("created_by")),
        description=_text(doc.get("domain") or doc.get("task_description")),
        seeds=tuple(seeds),
        document=document,
        content_hash=hashlib.sha256(data).hexdigest(),
    )
