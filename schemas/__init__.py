"""JSON Schemas shipped with Arborist: taxonomy file versions and the repository config file."""

from __future__ import annotations

import json
from functools import cache
from importlib import resources
from typing import Any


@cache
def load_schema(name: str) -> dict[str, Any]:
    """Load `schemas/<name>.json` from the installed package (cached: schemas never change at run time)."""
    text = resources.files(__name__).joinpath(f"{name}.json").read_text(encoding="utf-8")
    schema: dict[str, Any] = json.loads(text)
    return schema
