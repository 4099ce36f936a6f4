"""The seams are type-checked strictly: the pyproject's strict override names each of them, and each exists."""

from __future__ import annotations

import importlib.util
import tomllib
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
SEAMS = ("lab.github.protocol", "sandbox.fakes.github", "schemas.*", "lab.pipeline.results", "lab.publish.targets",
         "lab.generate.backends.base", "bot.jobs.executors", "bot.router", "bot.routes", "bot.context", "bot.handlers.*",
         "bot.commands.binding")
STRICT = ("disallow_untyped_defs", "disallow_incomplete_defs", "disallow_untyped_calls", "disallow_any_generics",
          "warn_return_any", "no_implicit_reexport", "strict_equality")


def _strict_override() -> dict:
    overrides = tomllib.loads((ROOT / "pyproject.toml").read_text())["tool"]["mypy"]["overrides"]
    [strict] = [o for o in overrides if o.get("disallow_untyped_defs")]
    return strict


def test_every_seam_is_in_the_strict_override_with_the_strict_flags():
    strict = _strict_override()
    assert set(SEAMS) <= set(strict["module"])
    assert all(strict.get(flag) is True for flag in STRICT), [f for f in STRICT if strict.get(f) is not True]


def test_every_module_the_strict_override_names_exists():
    for name in _strict_override()["module"]:
        assert importlib.util.find_spec(name.removesuffix(".*")) is not None, name
