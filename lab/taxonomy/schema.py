"""Format version, schema choice and schema errors as findings a first-time contributor understands.

The version and the schema are picked exactly as the reference parser picks them: `version:` (an
int, else coerced, else 1); the kind from the nearest `knowledge`/`compositional_skills` folder in
the path, else knowledge when the file has `document:`. Validators are compiled once per schema.
"""

from __future__ import annotations

from collections.abc import Mapping
from functools import cache
from typing import TYPE_CHECKING, Any

from lab.taxonomy.fastschema import Check, compile_schema, first_repeat
from lab.taxonomy.findings import Issue
from lab.taxonomy.invisible import escape_key, invisible_in, lookalike_of, named
from lab.taxonomy.loader import Loaded
from lab.taxonomy.yamlhints import implicit_type_message
from schemas import load_schema

if TYPE_CHECKING:  # jsonschema is imported only when a file fails the fast check (start-up time)
    from jsonschema import Draft202012Validator
    from jsonschema.exceptions import ValidationError

SCHEMA_FOLDERS = ("compositional_skills", "knowledge")  # folders that name the schema, as upstream
SUPPORTED = {("compositional_skills", 1), ("compositional_skills", 2), ("compositional_skills", 3), ("knowledge", 3)}
TYPE_WORDS = {"string": "text", "integer": "a whole number", "array": "a list (`- ` items)",
              "object": "a mapping (`key: value` lines)"}


def file_version(data: Mapping[str, Any]) -> int | None:
    """The schema version the reference parser would use; None for one it cannot (e.g. `version: true`)."""
    raw = data.get("version", 1)
    if isinstance(raw, bool):
        return None  # upstream looks for a schema folder "vTrue" and fails
    if isinstance(raw, int):
        return raw
    try:
        return int(raw)
    except (TypeError, ValueError, OverflowError):
        return 1


def schema_kind(path: str, data: Mapping[str, Any]) -> str:
    """'knowledge' or 'compositional_skills', the way the reference parser decides."""
    for part in reversed(path.split("/")[:-1]):
        if part in SCHEMA_FOLDERS:
            return part
    return "knowledge" if "document" in data else "compositional_skills"


@cache
def validator(kind: str, version: int) -> Draft202012Validator:
    """A compiled validator for one schema (built once per process)."""
    from jsonschema import Draft202012Validator
    from jsonschema.exceptions import ValidationError
    from jsonschema.validators import extend

    def unique_items(_validator, unique, instance, _schema):
        """jsonschema compares dicts pairwise (quadratic); the same verdict in linear time."""
        if unique and isinstance(instance, list) and first_repeat(instance) is not None:
            yield ValidationError(f"{instance!r:.80} has non-unique elements")

    schema = load_schema(f"{kind}_v{version}")
    Draft202012Validator.check_schema(schema)
    return extend(Draft202012Validator, {"uniqueItems": unique_items})(schema)


@cache
def fast_check(kind: str, version: int) -> Check:
    """The compiled yes/no check for one schema (see lab.taxonomy.fastschema)."""
    return compile_schema(load_schema(f"{kind}_v{version}"))


def dotted(path: tuple) -> str:
    """seed_examples[2].answer — how people read a position in the file."""
    out = ""
    for part in path:
        out += f"[{part}]" if isinstance(part, int) else (f".{part}" if out else str(part))
    return out or "the top level"


def schema_issues(loaded: Loaded, kind: str, version: int) -> list[Issue]:
    """Validate loaded data against its schema; one Issue per problem, pointing at its line."""
    if fast_check(kind, version)(loaded.data):
        return []  # the common case; jsonschema only explains rejected files
    issues: list[Issue] = []
    for error in validator(kind, version).iter_errors(loaded.data):
        issues.extend(_explain(error, loaded, kind, version))
    issues.sort(key=lambda i: (i.line, i.col))
    return issues


def _explain(error: ValidationError, loaded: Loaded, kind: str, version: int) -> list[Issue]:
    path = tuple(error.absolute_path)
    where = dotted(path)
    what = f"a {kind.replace('_', ' ').rstrip('s')} version {version} file"
    check, value, instance = error.validator, error.validator_value, error.instance
    line, col = loaded.where(path)
    if check == "required":
        return _explain_required(error, where, what, line, col)
    if check in ("additionalProperties", "unevaluatedProperties"):
        return _explain_unknown_keys(error, loaded, where, what)
    if check == "type":
        return _explain_type(error, loaded, where)
    if check == "minItems":
        count = len(instance) if isinstance(instance, list) else 0
        return [Issue("schema", line, col, f"`{where}` has {count} item(s); {what} needs at least {value}.",
                      f"Add {value - count} more.")]
    if check == "minLength":
        return [Issue("schema", line, col, f"`{where}` is empty.", "Write the text after the colon.")]
    if check == "const" and path == ("version",):
        return [Issue("schema", line, col, f"`version` must be the number {value} here, not {instance!r}.",
                      f"Write `version: {value}` without quotes.")]
    if check == "uniqueItems":
        index = first_repeat(instance)
        if index is not None:
            dline, dcol = loaded.where((*path, index))
            return [Issue("schema", dline, dcol, f"`{where}[{index}]` is an exact copy of an earlier entry.",
                          "Remove the copy or change it into a new example.")]
    return [Issue("schema", line, col, f"`{where}`: {error.message[-200:]}", "")]


def _explain_required(error: ValidationError, where: str, what: str, line: int, col: int) -> list[Issue]:
    """One issue per missing required field, with the schema's description of it as the hint."""
    instance = error.instance
    missing = [name for name in error.validator_value if isinstance(instance, dict) and name not in instance]
    issues = []
    for name in missing:
        desc = error.schema.get("properties", {}).get(name, {}).get("description", "")
        message = f"`{name}` is missing from {where}; {what} needs it."
        issues.append(Issue("schema", line, col, message, f"Add `{name}:`. {desc}".strip()))
    return issues


def _explain_unknown_keys(error: ValidationError, loaded: Loaded, where: str, what: str) -> list[Issue]:
    """One issue per key the schema does not allow: a lookalike of a known key, or simply unknown."""
    path = tuple(error.absolute_path)
    line, col = loaded.where(path)
    known = error.schema.get("properties", {})
    allowed = ", ".join(f"`{k}`" for k in known)
    issues = []
    for key in error.instance:
        if key in known or (isinstance(key, str) and invisible_in(key)):  # invisible: format-character-key
            continue
        kline, kcol = loaded.key_where((*path, key)) or (line, col)
        imitated = lookalike_of(key, known) if isinstance(key, str) else None
        if imitated:
            foreign = [c for c in dict.fromkeys(key) if not c.isascii()]
            issues.append(Issue("lookalike-key", kline, kcol, f"The key `{escape_key(key)}` looks like "
                                f"`{imitated}` but is written with other letters ({named(foreign)}).",
                                f"Retype `{imitated}` by hand on an ordinary keyboard layout."))
            continue
        shown = escape_key(key) if isinstance(key, str) else key
        issues.append(Issue("schema", kline, kcol, f"`{shown}` is not a field of {what} (in {where}).",
                            f"Check the spelling or remove it; allowed here: {allowed}."))
    return issues


def _explain_type(error: ValidationError, loaded: Loaded, where: str) -> list[Issue]:
    """A value of the wrong type: a YAML implicit conversion, an empty value, or plainly the wrong shape."""
    path = tuple(error.absolute_path)
    line, col = loaded.where(path)
    value, instance = error.validator_value, error.instance
    field = str(path[-1]) if path and not isinstance(path[-1], int) else where
    if path in loaded.implicit:
        tag, raw = loaded.implicit[path]
        message, hint = implicit_type_message(field, tag, raw)
        return [Issue("yaml-implicit-type", line, col, message, hint)]
    if instance is None:
        return [Issue("schema", line, col, f"`{where}` is empty.",
                      "Write the value after the colon, or use `|` and put the text on the next lines, "
                      "indented.")]
    want = TYPE_WORDS.get(value, str(value)) if isinstance(value, str) else str(value)
    return [Issue("schema", line, col, f"`{where}` must be {want}, but it is {_describe(instance)}.",
                  "Check the indentation: a list needs `- ` items, a mapping `key: value` lines.")]


def _describe(value: Any) -> str:
    if isinstance(value, bool):
        return f"the boolean {str(value).lower()}"
    if isinstance(value, list):
        return "a list"
    if isinstance(value, dict):
        return "a mapping"
    if isinstance(value, str):
        return "text"
    return f"{type(value).__name__} {value!r}"
