"""The one reader of `.github/arborist.yml`: bounded like a qna.yaml, problems as lines, never a crash.

Every reader of the repository config (the bot, `ci.retrain`, `ci.generate`, `ci.precheck`,
`lab validate`, `lab generate`) comes here: bounded size, nesting depth and alias expansion, so a
400-byte alias bomb or 20,000 nested brackets become one readable problem and the defaults apply.
The parsed mapping is validated by the typed model (schemas.repo_config.RepoConfig) section by
section: a broken section is reported and falls back to its defaults while the good ones apply.
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Any

from lab.taxonomy.config import Limits, ValidationConfig
from lab.taxonomy.loader import load_yaml
from schemas.config_model import ConfigError
from schemas.repo_config import CONFIG_PATH, SECTIONS, RepoConfig

__all__ = ["CONFIG_PATH", "RepoConfig", "load_repo_config", "read_repo_config", "validation_config"]

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


def load_repo_config(data: bytes | None, name: str = CONFIG_PATH) -> tuple[RepoConfig, list[str]]:
    """The config file's bytes as a RepoConfig and its problems; broken sections get their defaults. Never raises."""
    try:
        return _load(data, name)
    except Exception as exc:  # noqa: BLE001 - a hostile config must never cost the check run or /help
        return RepoConfig(), [f"{name}: cannot be read ({type(exc).__name__}); using defaults"]


def read_repo_config(path: Path) -> tuple[RepoConfig, list[str]]:
    """A config file on disk (e.g. `tree / CONFIG_PATH`), read bounded; absent gives the defaults."""
    return load_repo_config(read_config_file(path), str(CONFIG_PATH if Path(path).name == "arborist.yml" else path))


def read_config_file(path: Path) -> bytes | None:
    """A config file's bytes, read bounded (a regular file only); None when there is none."""
    from lab.taxonomy.validate import read_regular_file

    return read_regular_file(Path(path), MAX_CONFIG_BYTES)


def validation_config(data: bytes | None, name: str = CONFIG_PATH) -> tuple[ValidationConfig, list[str]]:
    """The `validation:` section as lab.taxonomy's ValidationConfig; a broken file or section gives the defaults."""
    config, problems = load_repo_config(data, name)
    return ValidationConfig.from_mapping(config.validation.as_mapping()), problems


def _load(data: bytes | None, name: str) -> tuple[RepoConfig, list[str]]:
    parsed, problems = parse_config(data, name)  # bounded: size, depth, aliases (the qna.yaml loader)
    if not parsed:  # absent, empty, or unreadable (then problems say why)
        return RepoConfig(), problems
    unknown = sorted(str(key) for key in parsed if key not in SECTIONS)
    if unknown:
        return RepoConfig(), problems + [short(f"{name}: top level: unknown key(s) {', '.join(unknown)}; allowed: "
                                               f"{', '.join(SECTIONS)}"), f"{name}: using defaults"]
    sections: dict[str, Any] = {}
    for section, raw in parsed.items():
        try:
            sections[section] = _section(section, raw)
        except ConfigError as exc:
            problems += [short(f"{name}: {exc}"), f"{name}: section '{section}' ignored; its defaults apply"]
    return RepoConfig(**sections), problems


def _section(section: str, raw: Any) -> Any:
    """One section validated by its model, then by the checks that need lab (rule ids, limits, tag fields)."""
    if raw is not None and not isinstance(raw, Mapping):
        raise ConfigError(f"{section}: expected a mapping, got {type(raw).__name__}")
    value = SECTIONS[section].from_mapping(raw, where=section)
    if section == "validation":
        try:
            ValidationConfig.from_mapping(value.as_mapping())  # type: ignore[attr-defined]
        except ValueError as exc:
            raise ConfigError(str(exc)) from None
    if section == "release" and raw and "tag_format" in raw:
        from schemas.tag_format import TagFormatError, check_tag_format

        try:
            check_tag_format(raw["tag_format"])
        except TagFormatError as exc:
            raise ConfigError(f"release.{exc}") from None
    return value
