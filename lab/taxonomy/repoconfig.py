"""Reading `.github/arborist.yml` safely: the qna.yaml loader's bounds, problems as lines, never a crash.

Every reader of the repository config (the bot, `ci.retrain`, `ci.generate`, `lab validate`,
`lab generate`) parses it here: bounded size, nesting depth and alias expansion, so a 400-byte alias
bomb or 20,000 nested brackets become one readable problem and the defaults apply.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from lab.taxonomy.config import Limits, ValidationConfig
from lab.taxonomy.loader import load_yaml

CONFIG_PATH = ".github/arborist.yml"
MAX_CONFIG_BYTES = 64 * 1024  # a real config is a few hundred bytes
# A config is small and shallow: a few dozen values, four levels deep.
CONFIG_LIMITS = Limits(max_file_bytes=MAX_CONFIG_BYTES, max_line_chars=4_000, max_depth=16,
                       max_nodes=10_000, max_items=1_000)
MAX_PROBLEM_CHARS = 300  # one problem line; a hostile value is not echoed in full
REPORTED = {"duplicate-key"}  # non-fatal loader issues worth saying; line endings are not


def short(problem: str) -> str:
    """One problem line, cut to MAX_PROBLEM_CHARS."""
    line = " ".join(problem.split())
    return line if len(line) <= MAX_PROBLEM_CHARS else line[:MAX_PROBLEM_CHARS - 1] + "…"


def parse_config(data: bytes | None, name: str = CONFIG_PATH) -> tuple[dict[str, Any] | None, list[str]]:
    """The config's top-level mapping and its problems. None with problems: unreadable, use the defaults.

    Absent (None) or empty bytes give ({}, []). Never raises for bad input.
    """
    if data is None:
        return {}, []
    loaded = load_yaml(data, CONFIG_LIMITS)
    problems = [short(f"{name}{f':{i.line}:{i.col}' if i.line else ''}: {i.message}") for i in loaded.issues
                if loaded.fatal or i.rule in REPORTED]
    if loaded.fatal:
        return None, problems + [f"{name}: using defaults"]
    if loaded.data is None:
        return {}, problems
    if not isinstance(loaded.data, dict):
        return None, problems + [f"{name}: the top level must be a mapping of sections; using defaults"]
    return loaded.data, problems


def read_config_file(path: Path) -> bytes | None:
    """A config file's bytes, read bounded (a regular file only); None when there is none."""
    from lab.taxonomy.validate import read_regular_file

    return read_regular_file(Path(path), MAX_CONFIG_BYTES)


def validation_config(data: bytes | None, name: str = CONFIG_PATH) -> tuple[ValidationConfig, list[str]]:
    """The `validation:` section as a ValidationConfig; a broken file or section gives the defaults."""
    parsed, problems = parse_config(data, name)
    if not parsed:
        return ValidationConfig(), problems
    try:
        return ValidationConfig.from_mapping(parsed.get("validation") or {}), problems
    except ValueError as exc:
        return ValidationConfig(), problems + [short(f"{name}: {exc}; section 'validation' ignored, "
                                                     "its defaults apply")]
