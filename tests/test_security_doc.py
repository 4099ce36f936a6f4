"""docs/security.md stays honest: every test it names as evidence for a threat exists."""

from __future__ import annotations

import re

from tests.conftest import REPO_ROOT

SECURITY = (REPO_ROOT / "docs" / "security.md").read_text(encoding="utf-8")
CITATION = re.compile(r"`(tests/[\w/]+\.py)((?:::\w+)?)`((?:, `::\w+`)*)")


def _cited() -> list[tuple[str, str]]:
    """(file, test name or '') for every citation, with `::name` follow-ons credited to the file before them."""
    found = []
    for match in CITATION.finditer(SECURITY):
        path, first, more = match.groups()
        names = [first[2:]] if first else [""]
        names += re.findall(r"`::(\w+)`", more)
        found += [(path, name) for name in names]
    return found


def test_security_doc_cites_tests_for_every_section():
    assert len(_cited()) >= 30


def test_every_test_the_security_doc_cites_exists():
    missing = []
    for path, name in _cited():
        source = REPO_ROOT / path
        if not source.is_file():
            missing.append(path)
        elif name and f"def {name}(" not in source.read_text(encoding="utf-8"):
            missing.append(f"{path}::{name}")
    assert not missing, f"docs/security.md cites tests that do not exist: {missing}"
