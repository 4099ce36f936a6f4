"""A JSON Schema subset compiled to plain Python checks: the fast yes/no for valid files.

jsonschema's validator is general and spends most of its time on bookkeeping; taxonomy files
need only type, const, required, properties, additionalProperties, items, minItems, minLength and
uniqueItems. `compile_schema` turns such a schema into one closure that answers "valid?" with
jsonschema's semantics (1.0 is an integer, True is not 1). Only files it rejects go through
jsonschema for detailed errors, so the verdict and the messages never diverge. A keyword outside
the subset raises at compile time, so a schema change cannot be silently ignored.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

Check = Callable[[Any], bool]
ANNOTATIONS = {"$schema", "$id", "title", "description", "examples", "$comment", "default"}


def _is_integer(value: Any) -> bool:
    if isinstance(value, bool):
        return False
    return isinstance(value, int) or (isinstance(value, float) and value.is_integer())


TYPES: dict[str, Check] = {
    "string": lambda v: isinstance(v, str),
    "integer": _is_integer,
    "number": lambda v: isinstance(v, int | float) and not isinstance(v, bool),
    "boolean": lambda v: isinstance(v, bool),
    "array": lambda v: isinstance(v, list),
    "object": lambda v: isinstance(v, dict),
    "null": lambda v: v is None,
}


def json_equal(a: Any, b: Any) -> bool:
    """Equality as JSON Schema defines it: booleans never equal numbers; containers compare deeply."""
    if isinstance(a, bool) or isinstance(b, bool):
        return isinstance(a, bool) and isinstance(b, bool) and a == b
    if isinstance(a, dict) and isinstance(b, dict):
        return a.keys() == b.keys() and all(json_equal(a[k], b[k]) for k in a)
    if isinstance(a, list) and isinstance(b, list):
        return len(a) == len(b) and all(json_equal(x, y) for x, y in zip(a, b, strict=True))
    if isinstance(a, dict | list) or isinstance(b, dict | list):
        return False
    return bool(a == b)


def freeze(value: Any) -> Any:
    """A hashable stand-in with JSON equality: equal JSON values, equal results; True is not 1."""
    if isinstance(value, bool):
        return ("bool", value)
    if isinstance(value, dict):
        return ("object", frozenset((freeze(k), freeze(v)) for k, v in value.items()))
    if isinstance(value, list):
        return ("array", tuple(freeze(v) for v in value))
    if isinstance(value, int | float):
        return ("number", value)  # 1 == 1.0 and hash alike, as JSON Schema wants
    return (type(value).__name__, value)


def first_repeat(items: list) -> int | None:
    """Index of the first item equal to an earlier one (linear time, unlike pairwise comparison)."""
    seen: set[Any] = set()
    for index, item in enumerate(items):
        try:
            key = freeze(item)
            if key in seen:
                return index
            seen.add(key)
        except TypeError:  # an unhashable oddity: fall back to comparing with what came before
            if any(json_equal(item, other) for other in items[:index]):
                return index
    return None


def _unique(items: list) -> bool:
    return first_repeat(items) is None


def compile_schema(schema: dict[str, Any]) -> Check:
    """One closure that says whether an instance is valid against `schema`."""
    unknown = set(schema) - ANNOTATIONS - {"type", "const", "required", "properties", "additionalProperties",
                                           "items", "minItems", "minLength", "uniqueItems"}
    if unknown:
        raise ValueError(f"fastschema: unsupported keyword(s) {sorted(unknown)}")
    checks: list[Check] = []
    kind = schema.get("type")
    if kind is not None:
        checks.append(TYPES[kind])
    if "const" in schema:
        const = schema["const"]
        checks.append(lambda v: json_equal(v, const))
    if "minLength" in schema:
        n = schema["minLength"]
        checks.append(lambda v: not isinstance(v, str) or len(v) >= n)
    if "minItems" in schema:
        n_items = schema["minItems"]
        checks.append(lambda v: not isinstance(v, list) or len(v) >= n_items)
    if schema.get("uniqueItems"):
        checks.append(lambda v: not isinstance(v, list) or _unique(v))
    if "items" in schema:
        item = compile_schema(schema["items"])
        checks.append(lambda v: not isinstance(v, list) or all(item(x) for x in v))
    if "required" in schema:
        required = tuple(schema["required"])
        checks.append(lambda v: not isinstance(v, dict) or all(k in v for k in required))
    properties = {k: compile_schema(s) for k, s in schema.get("properties", {}).items()}
    if properties:
        checks.append(lambda v: not isinstance(v, dict) or all(
            check(v[k]) for k, check in properties.items() if k in v))
    if schema.get("additionalProperties") is False:
        allowed = frozenset(properties)
        checks.append(lambda v: not isinstance(v, dict) or all(
            isinstance(k, str) and k in allowed for k in v))
    elif "additionalProperties" in schema:
        raise ValueError("fastschema: only `additionalProperties: false` is supported")

    def valid(value: Any) -> bool:
        return all(check(value) for check in checks)

    return valid
