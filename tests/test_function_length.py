"""No function or method in the product and scaffolding packages runs longer than one screen (60 lines).

Counted with `ast` from a function's `def` line to its last line (end_lineno - lineno + 1), decorators
excluded, nested functions counted on their own and inside their parent. No generated tables live in
these packages, so nothing is exempt.
"""

from __future__ import annotations

import ast

from tests.conftest import REPO_ROOT

MAX_LINES = 60
PACKAGES = ("bot", "ci", "lab", "schemas", "sandbox")


def long_functions(source: str, limit: int = MAX_LINES) -> list[tuple[str, int, int]]:
    """(name, first line, length) of every function or method in `source` longer than `limit` lines."""
    found = []
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)):
            length = (node.end_lineno or node.lineno) - node.lineno + 1
            if length > limit:
                found.append((node.name, node.lineno, length))
    return found


def test_the_check_finds_a_long_nested_function_and_passes_a_short_one():
    body = "".join(f"        x{i} = {i}\n" for i in range(MAX_LINES))
    source = f"def short():\n    return 1\n\n\nclass A:\n    def method(self):\n        pass\n{body}"
    assert long_functions(source) == [("method", 6, MAX_LINES + 2)]
    nested = "def outer():\n    def inner():\n" + body + "    return inner\n"
    assert {name for name, _, _ in long_functions(nested)} == {"outer", "inner"}
    assert long_functions("def f():\n    return 1\n") == []


def test_no_function_in_the_packages_is_longer_than_sixty_lines():
    offenders = []
    for package in PACKAGES:
        for path in sorted((REPO_ROOT / package).rglob("*.py")):
            for name, line, length in long_functions(path.read_text(encoding="utf-8")):
                offenders.append(f"{path.relative_to(REPO_ROOT)}:{line} {name}() is {length} lines")
    assert not offenders, f"split these into functions of at most {MAX_LINES} lines:\n" + "\n".join(offenders)

