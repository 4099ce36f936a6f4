"""Every setting comes through the one settings mechanism: no runtime module reads the environment itself.

A setting read straight from os.environ skips the validation (a bad value is one line naming the
variable) and the secret handling (SecretStr, never shown) that schemas.env_settings gives every
settings class. This test reads the source of the runtime packages (ast: nothing is executed) and
fails on any use of `os.environ` or `os.getenv` (a read, a copy, an alias) outside the modules listed
below, each with its reason: the mechanism itself, and the places that hand the whole environment to
a child process or scan it for secrets to mask.
"""

from __future__ import annotations

import ast
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parents[1]
RUNTIME = ("bot", "ci", "lab", "schemas")
ENV_NAMES = frozenset({"environ", "getenv", "environb", "getenvb"})  # what `os` reads the environment with
ALLOWED: dict[str, str] = {
    "schemas/env_settings.py": "the settings mechanism: EnvSettings.from_environ reads os.environ for every class",
    "schemas/masking.py": "scans every variable's name for TOKEN/SECRET/KEY/PASSWORD to mask the values anywhere",
    "bot/settings.py": "the bot's settings reader: lays ARBORIST_SETTINGS_FILE under the environment, "
                       "then AppSettings.from_environ validates the merged mapping",
    "bot/jobs/worker.py": "copies the whole environment into a step's subprocess",
    "bot/jobs/ray_executor.py": "copies the environment into a Ray task, and on the cluster execs the step whose "
                                "argv the job handed over in ARBORIST_STEP_ARGV (a hand-off, not a setting)",
    "bot/entry/worker.py": "copies the environment (with CUDA_VISIBLE_DEVICES pinned) for the worker's steps",
    "lab/safegit.py": "copies the environment, minus GIT_* and the user's config, into git's subprocess",
    "lab/commands/validate.py": "only asks whether ARBORIST_ALLOW_LOCAL_DOCS is set at all, so that a run without "
                                "it never loads pydantic (start-up); the value is read by lab.settings.CliSettings",
}


def env_uses(tree: ast.AST) -> list[tuple[int, str]]:
    """(line, what) for each `os.environ` / `os.getenv` use, and each `from os import environ/getenv`."""
    found = []
    for node in ast.walk(tree):
        if (isinstance(node, ast.Attribute) and node.attr in ENV_NAMES and isinstance(node.value, ast.Name)
                and node.value.id == "os"):
            found.append((node.lineno, f"os.{node.attr}"))
        elif isinstance(node, ast.ImportFrom) and node.module == "os":
            found += [(node.lineno, f"from os import {a.name}") for a in node.names if a.name in ENV_NAMES]
    return found


def runtime_env_uses() -> dict[str, list[tuple[int, str]]]:
    uses = {}
    for package in RUNTIME:
        for path in sorted((REPO_ROOT / package).rglob("*.py")):
            found = env_uses(ast.parse(path.read_text(encoding="utf-8"), filename=str(path)))
            if found:
                uses[path.relative_to(REPO_ROOT).as_posix()] = found
    return uses


def test_no_runtime_module_reads_the_environment_outside_the_settings_mechanism():
    stray = {path: found for path, found in runtime_env_uses().items() if path not in ALLOWED}
    assert not stray, ("read these through a settings class (schemas.env_settings.EnvSettings), or list the module "
                       f"in ALLOWED with its reason: {stray}")


def test_every_allowed_module_still_uses_the_environment():
    """An entry whose module no longer touches the environment is stale: the list only shrinks."""
    uses = runtime_env_uses()
    assert [path for path in ALLOWED if path not in uses] == []


def test_the_check_sees_reads_copies_aliases_and_imports():
    source = ("import os\nfrom os import getenv\n"
              "a = os.environ.get('X')\nb = os.getenv('Y')\nc = os.environ['Z']\n"
              "env = os.environ if True else {}\nd = dict(os.environ)\n'X' in os.environ\nos.path.join('a')\n")
    assert sorted(line for line, _ in env_uses(ast.parse(source))) == [2, 3, 4, 5, 6, 7, 8]
