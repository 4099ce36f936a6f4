"""The bundled example taxonomy (reused by the demo and other tests) is clean and covers each leaf kind."""

from __future__ import annotations

import re

import pytest

from lab.taxonomy import validate_paths
from lab.taxonomy.discover import find_leaves
from lab.taxonomy.leaf import leaf_from_yaml

from .conftest import EXAMPLES


def test_examples_have_no_findings_at_all():
    reports = validate_paths([EXAMPLES], root=EXAMPLES)
    assert len(reports) == 3
    assert [(r.path, r.findings) for r in reports if r.findings] == []


def test_examples_cover_knowledge_freeform_and_grounded_leaves():
    leaves = [leaf_from_yaml(p, (EXAMPLES / p).read_bytes()) for p in find_leaves(EXAMPLES)]
    assert sorted(leaf.kind for leaf in leaves) == ["freeform_skill", "grounded_skill", "knowledge"]
    knowledge = next(leaf for leaf in leaves if leaf.kind == "knowledge")
    assert knowledge.document is not None and re.fullmatch(r"[0-9a-f]{40}", knowledge.document.commit)
    assert all(len(leaf.seeds) >= 5 for leaf in leaves)


def test_reference_validator_accepts_the_examples():
    taxonomy = pytest.importorskip("instructlab.schema.taxonomy")
    parser = taxonomy.TaxonomyParser(schema_version=0, message_format="LOGGING")
    parser._yamllint = lambda text, taxonomy: None  # lint equivalence is tested over the corpus
    for leaf in find_leaves(EXAMPLES):
        result = parser.parse(EXAMPLES / leaf)
        assert (result.errors, result.version) == (0, 3), leaf
