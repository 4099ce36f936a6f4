"""The typed repo config (schemas.repo_config) and the published JSON schema say the same thing.

schemas/arborist_config.json is the contract the README documents; RepoConfig is what the code
reads. Both are asked about the same hostile and edge values, key by key, and must agree.
"""

from __future__ import annotations

from typing import Any

import jsonschema
import pytest

from schemas import load_schema
from schemas.config_model import ConfigError
from schemas.repo_config import SCHEMA_NAME, SECTIONS, RepoConfig

SCHEMA = load_schema(SCHEMA_NAME)
PLAIN = [None, True, False, 0, 1, -1, 0.5, 2.5, 1000, 1001, "", "x", "org/name", "v{date}", [], ["write"],
         ["write", "write"], ["bogus"], ["org/team", "org/team"], [""], {}, {"schema": "off"}, {"Bad Rule": "off"},
         {"max_depth": 0}, {"max_depth": 3}, {"schema": "fatal"}]


def _leaves(node: dict[str, Any], path: tuple[str, ...] = ()) -> list[tuple[tuple[str, ...], dict[str, Any]]]:
    out = []
    for key, sub in node.get("properties", {}).items():
        if sub.get("type") == "object" and "properties" in sub:
            out += _leaves(sub, (*path, key))
        else:
            out.append(((*path, key), sub))
    return out


LEAVES = _leaves(SCHEMA)


def _nest(path: tuple[str, ...], value: Any) -> dict[str, Any]:
    for key in reversed(path):
        value = {key: value}
    return value


def _edges(spec: dict[str, Any]) -> list[Any]:
    """Values just inside and just outside the leaf's bounds."""
    out: list[Any] = []
    for bound in ("minimum", "maximum", "exclusiveMinimum"):
        if bound in spec:
            out += [spec[bound] - 1, spec[bound], spec[bound] + 1]
    for bound in ("minLength", "maxLength"):
        if bound in spec:
            out += ["a" * (spec[bound] - 1), "a" * spec[bound], "a" * (spec[bound] + 1)]
    return out


def _model_accepts(data: dict[str, Any]) -> bool:
    try:
        RepoConfig.from_mapping(data)
    except ConfigError:
        return False
    return True


def test_model_and_schema_have_the_same_keys_and_defaults():
    schema_keys = {".".join(path): spec.get("default") for path, spec in LEAVES}
    model_keys = {}
    for section, model in SECTIONS.items():
        for name, value in model().model_dump(mode="json").items():
            if isinstance(value, dict) and name in model.model_fields and hasattr(model.model_fields[name].annotation,
                                                                                  "model_fields"):
                model_keys.update({f"{section}.{name}.{k}": v for k, v in value.items()})
            else:
                model_keys[f"{section}.{name}"] = value
    assert model_keys == schema_keys
    assert set(SECTIONS) == set(SCHEMA["properties"])


@pytest.mark.parametrize("path, spec", LEAVES, ids=[".".join(p) for p, _ in LEAVES])
def test_model_and_schema_accept_and_refuse_the_same_values(path, spec):
    validator = jsonschema.Draft202012Validator(SCHEMA)
    for value in PLAIN + _edges(spec):
        if isinstance(value, float) and value.is_integer():
            continue  # 1.0 passes as a JSON integer; the typed model (like the old one) wants 1
        data = _nest(path, value)
        assert _model_accepts(data) == validator.is_valid(data), f"{'.'.join(path)} = {value!r}"


def test_unknown_keys_are_refused_at_every_level():
    for data in ({"colour": 1}, {"generate": {"smaples": 3}}, {"retrain": {"gate": {"min_efect": 0.1}}}):
        with pytest.raises(ConfigError, match="unknown key"):
            RepoConfig.from_mapping(data)
