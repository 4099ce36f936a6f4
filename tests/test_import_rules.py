"""The package layering of issue 13, enforced: who may import whom, and no import circles.

schemas <- lab <- ci, bot -> lab/schemas, and the scaffolding (sandbox) is imported by no runtime package.
Every import counts: module level, inside functions, under `if TYPE_CHECKING:`; a dependency the reader
has to know about is a dependency. The graph comes from the source (ast), so nothing is executed.
"""

from __future__ import annotations

import ast
from collections.abc import Iterable, Mapping
from pathlib import Path

import pytest

REPO_ROOT = Path(__file__).resolve().parents[1]
RUNTIME = ("bot", "ci", "lab", "schemas")
PACKAGES = (*RUNTIME, "sandbox")
# package -> the top-level packages it must never import
FORBIDDEN: dict[str, frozenset[str]] = {
    "bot": frozenset({"sandbox"}),
    "ci": frozenset({"sandbox", "bot"}),
    "lab": frozenset({"sandbox", "bot", "ci"}),
    "schemas": frozenset({"sandbox", "bot", "ci", "lab"}),
}
# packages whose modules must not import each other in a circle (named for the issue; the whole graph is checked too)
NO_CIRCLES = ("sandbox.demo", "lab.taxonomy")

Graph = dict[str, set[str]]


def module_name(root: Path, path: Path) -> str:
    parts = list(path.relative_to(root).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


def _absolute(module: str, is_package: bool, level: int, target: str | None) -> str:
    """The absolute name of a relative import `from ..x import y` written in `module`."""
    if level == 0:
        return target or ""
    base = module.split(".") if is_package else module.split(".")[:-1]
    base = base[: len(base) - (level - 1)] if level > 1 else base
    return ".".join([*base, target] if target else base)


def imports_of(tree: ast.AST, module: str, is_package: bool, known: set[str]) -> set[str]:
    """Every module `tree` imports, anywhere in it; `from pkg import name` counts as pkg.name when that is a module."""
    found: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            source = _absolute(module, is_package, node.level, node.module)
            for alias in node.names:
                candidate = f"{source}.{alias.name}" if source else alias.name
                found.add(candidate if candidate in known or not source else source)
    return found


def import_graph(root: Path, packages: Iterable[str]) -> Graph:
    """module -> the modules it imports, for every .py file under root/<package> for each package."""
    files = {path: module_name(root, path) for package in packages for path in sorted((root / package).rglob("*.py"))
             if "__pycache__" not in path.parts}
    known = set(files.values())
    return {name: imports_of(ast.parse(path.read_text(encoding="utf-8"), str(path)), name,
                             path.name == "__init__.py", known)
            for path, name in files.items()}


def layer_violations(graph: Mapping[str, set[str]], forbidden: Mapping[str, frozenset[str]]) -> list[str]:
    """One line per import that crosses a forbidden boundary: 'ci.report imports bot.jobs.render'."""
    lines = []
    for module, imported in sorted(graph.items()):
        banned = forbidden.get(module.split(".")[0], frozenset())
        lines += [f"{module} imports {target}" for target in sorted(imported) if target.split(".")[0] in banned]
    return lines


def circles(graph: Mapping[str, set[str]], within: str = "") -> list[list[str]]:
    """The import circles (strongly connected components of more than one module) among modules under `within`."""
    inside = {m for m in graph if not within or m == within or m.startswith(within + ".")}
    edges = {m: sorted(t for t in graph[m] if t in inside and t != m) for m in sorted(inside)}
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    found: list[list[str]] = []

    def visit(start: str) -> None:  # Tarjan's algorithm, iterative so deep chains cannot overflow
        work = [(start, iter(edges[start]))]
        index[start] = low[start] = len(index)
        stack.append(start)
        on_stack.add(start)
        while work:
            node, children = work[-1]
            child = next(children, None)
            if child is None:
                work.pop()
                if work:
                    low[work[-1][0]] = min(low[work[-1][0]], low[node])
                if low[node] == index[node]:
                    component = []
                    while True:
                        member = stack.pop()
                        on_stack.discard(member)
                        component.append(member)
                        if member == node:
                            break
                    if len(component) > 1:
                        found.append(sorted(component))
            elif child not in index:
                index[child] = low[child] = len(index)
                stack.append(child)
                on_stack.add(child)
                work.append((child, iter(edges[child])))
            elif child in on_stack:
                low[node] = min(low[node], index[child])

    for module in edges:
        if module not in index:
            visit(module)
    return sorted(found)


@pytest.fixture(scope="module")
def graph() -> Graph:
    return import_graph(REPO_ROOT, PACKAGES)


@pytest.mark.parametrize("package", ["bot", "lab", "schemas"])
def test_runtime_package_keeps_to_its_layer(graph, package):
    assert layer_violations({m: t for m, t in graph.items() if m.split(".")[0] == package}, FORBIDDEN) == []


def test_ci_imports_nothing_from_bot_or_the_sandbox(graph):
    assert layer_violations({m: t for m, t in graph.items() if m.split(".")[0] == "ci"}, FORBIDDEN) == []


@pytest.mark.parametrize("package", NO_CIRCLES)
def test_no_import_circles_inside(graph, package):
    assert circles(graph, package) == []


def test_no_import_circles_between_packages(graph):
    tops: Graph = {}
    for module, imported in graph.items():
        tops.setdefault(module.split(".")[0], set()).update(t.split(".")[0] for t in imported)
    assert circles({m: t & set(PACKAGES) for m, t in tops.items()}) == []


def test_no_import_circles_anywhere(graph):
    assert circles(graph) == []


def test_the_graph_sees_every_kind_of_import(graph):
    """The checker reads function-level and relative imports, and `from pkg import module` as the module."""
    assert "lab.cli" in graph["bot.cli"]
    assert any(m.startswith("sandbox.demo.") for m in graph["sandbox.entry_demo"])  # imported inside functions
    assert len(graph) > 100


# The checker itself, on a small synthetic tree: a broken rule must be found.

def _tree(root: Path, files: dict[str, str]) -> Path:
    for name, text in files.items():
        path = root / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text, encoding="utf-8")
    return root


def test_checker_finds_a_function_level_import_of_a_forbidden_package(tmp_path):
    root = _tree(tmp_path, {
        "ci/__init__.py": "",
        "ci/report.py": "def render():\n    from bot.jobs import render\n    return render\n",
        "bot/__init__.py": "", "bot/jobs/__init__.py": "", "bot/jobs/render.py": "",
        "lab/__init__.py": "import schemas\n",
        "schemas/__init__.py": "",
    })
    assert layer_violations(import_graph(root, ("bot", "ci", "lab", "schemas")), FORBIDDEN) == [
        "ci.report imports bot.jobs.render"]


def test_checker_finds_a_relative_and_a_type_checking_import(tmp_path):
    root = _tree(tmp_path, {
        "lab/__init__.py": "",
        "lab/a.py": "from typing import TYPE_CHECKING\nif TYPE_CHECKING:\n    import sandbox.demo\n",
        "lab/b.py": "from .. import bot\n",
        "schemas/__init__.py": "from lab import a\n",
    })
    assert layer_violations(import_graph(root, ("lab", "schemas")), FORBIDDEN) == [
        "lab.a imports sandbox.demo", "lab.b imports bot", "schemas imports lab.a"]


def test_checker_finds_a_circle_of_three_and_ignores_a_chain(tmp_path):
    root = _tree(tmp_path, {
        "pkg/__init__.py": "",
        "pkg/a.py": "from pkg import b\n",
        "pkg/b.py": "def later():\n    from pkg.c import x\n",
        "pkg/c.py": "from . import a\nx = 1\n",
        "pkg/d.py": "import pkg.a\n",
    })
    graph = import_graph(root, ("pkg",))
    assert circles(graph, "pkg") == [["pkg.a", "pkg.b", "pkg.c"]]
    del graph["pkg.c"]
    assert circles(graph, "pkg") == []
