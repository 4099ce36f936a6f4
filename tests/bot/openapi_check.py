"""Check recorded stand-in exchanges against GitHub's OpenAPI description (3.0 -> JSON Schema draft 4).

OpenAPI 3.0's `nullable: true` becomes a JSON Schema null alternative; `$ref`s resolve inside the
spec document itself. Paths are matched by template; `{path}` may span slashes.
"""

from __future__ import annotations

import json
import re
from functools import cache
from pathlib import Path
from typing import Any

import jsonschema


def _convert(node: Any) -> Any:
    if isinstance(node, list):
        return [_convert(x) for x in node]
    if not isinstance(node, dict):
        return node
    out = {k: _convert(v) for k, v in node.items() if k not in ("discriminator", "example", "examples")}
    if out.pop("nullable", False):
        if "type" in out and isinstance(out["type"], str):
            out["type"] = [out["type"], "null"]
            if "enum" in out:
                out["enum"] = [*out["enum"], None]
        else:
            return {"anyOf": [out, {"type": "null"}]}
    return out


@cache
def load_spec(path: Path) -> dict[str, Any]:
    return _convert(json.loads(path.read_text()))


def _template_regex(template: str) -> re.Pattern:
    pattern = re.sub(r"\\\{path\\\}", "(?P<path>.+)", re.escape(template))
    pattern = re.sub(r"\\\{[a-z_]+\\\}", "[^/]+", pattern)
    return re.compile(f"^{pattern}$")


def find_operation(spec: dict[str, Any], method: str, path: str) -> tuple[str, dict[str, Any]] | None:
    for template, item in spec["paths"].items():
        if method.lower() in item and _template_regex(template).match(path):
            return template, item[method.lower()]
    return None


def node_ref(ref: str) -> list[str]:
    return ref.lstrip("#/").split("/")


def _deref(spec: dict[str, Any], node: dict[str, Any]) -> dict[str, Any]:
    while isinstance(node, dict) and "$ref" in node:
        target: Any = spec
        for part in node_ref(node["$ref"]):
            target = target[part]
        node = target
    return node


def problems(spec: dict[str, Any], entry: dict[str, Any]) -> list[str]:
    """Schema violations of one recorded exchange (request body and response body)."""
    found = find_operation(spec, entry["method"], entry["path"])
    if found is None:
        return [f"{entry['method']} {entry['path']}: not in the OpenAPI description"]
    template, op = found
    out: list[str] = []

    def check(instance: Any, schema: dict[str, Any], what: str) -> None:
        validator = jsonschema.Draft4Validator({**schema, "components": spec["components"]})
        for error in list(validator.iter_errors(instance))[:3]:
            where = "/".join(map(str, error.absolute_path))
            out.append(f"{entry['method']} {template} {what} at {where or '.'}: {error.message[:200]}")

    body_spec = _deref(spec, op.get("requestBody") or {})
    schema = (body_spec.get("content") or {}).get("application/json", {}).get("schema")
    if entry["body"] is not None and schema:
        check(entry["body"], schema, "request")
    response = _deref(spec, (op.get("responses") or {}).get(str(entry["status"])) or {})
    if not response and entry["status"] < 400:
        out.append(f"{entry['method']} {template}: status {entry['status']} is not documented")
    schema = (response.get("content") or {}).get("application/json", {}).get("schema")
    if schema and entry["response"] is not None:
        check(entry["response"], schema, f"response {entry['status']}")
    return out
