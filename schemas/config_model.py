"""The one way a config is validated: pydantic models whose errors become one line naming the key.

Every config and settings object of Arborist (the repository config, the validation and training
configs, the bot's, the job system's and the ci step's settings) is a pydantic model. Values from a
YAML or JSON file, from `--set key=value` and from the environment go through the same validation;
a refusal is a `ConfigError` (a ValueError) whose message is one line: the dotted key, what was
expected, and the value given (cut short, and never shown for a secret).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any, Self, Union, get_args, get_origin

from pydantic import BaseModel, ConfigDict, SecretBytes, SecretStr, TypeAdapter, ValidationError

MAX_VALUE_CHARS = 60  # a hostile value is not echoed in full
MAX_MESSAGE_CHARS = 1000  # one line, whatever the input (long enough to list a config's keys)
MAX_KEY_CHARS = 60  # a hostile key name is cut too
EXPECTED = {  # pydantic error type -> what the key wanted, in the project's words
    "int_type": "expected an integer", "int_parsing": "expected an integer", "int_from_float": "expected an integer",
    "float_type": "expected a number", "float_parsing": "expected a number",
    "bool_type": "expected true or false", "bool_parsing": "expected true or false",
    "string_type": "expected a string", "dict_type": "expected a mapping", "model_type": "expected a mapping",
    "model_attributes_type": "expected a mapping", "list_type": "expected a list", "tuple_type": "expected a list",
    "missing": "required but not set",
}


class ConfigError(ValueError):
    """A config or setting was refused; the message is one line that names the key."""


class ConfigModel(BaseModel):
    """A config section: immutable, unknown keys refused, no silent coercion (ints are accepted as numbers)."""

    model_config = ConfigDict(frozen=True, extra="forbid", strict=True)

    @classmethod
    def from_mapping(cls, data: Mapping[str, Any] | None, where: str = "") -> Self:
        """Validate a plain mapping (a file's section, overrides); ConfigError names the first bad key."""
        if data is not None and not isinstance(data, Mapping):
            raise ConfigError(f"{where or 'top level'}: expected a mapping, got {type(data).__name__}")
        validated: Self = validate(cls, dict(data or {}), where)
        return validated

    def with_overrides(self, overrides: Mapping[str, Any], where: str = "") -> Self:
        """A copy with `overrides` applied and the whole result validated again (so cross-checks run)."""
        validated: Self = validate(type(self), {**self.model_dump(), **dict(overrides)}, where)
        return validated


def validate(cls: type[BaseModel] | Any, data: Any, where: str = "", names: Mapping[str, str] | None = None) -> Any:
    """`cls.model_validate(data)`, a refusal turned into a one-line ConfigError."""
    try:
        return cls.model_validate(data)
    except ValidationError as exc:
        raise ConfigError(describe(exc, cls, where, names)) from None


def parse_value(kind: Any, raw: Any, name: str) -> Any:
    """One value (an environment variable, a flag) validated as `kind` like a settings field; ConfigError names it."""
    try:
        return TypeAdapter(kind).validate_python(raw)
    except ValidationError as exc:
        raise ConfigError(describe(exc, where=name)) from None


def describe(exc: ValidationError, model: Any = None, where: str = "", names: Mapping[str, str] | None = None) -> str:
    """One line for a refusal: the first error's key, what it expected and the value given.

    `names` maps a top-level field to what the user typed (e.g. its environment variable).
    """
    errors = exc.errors(include_url=False)
    first = errors[0] if errors else {"loc": (), "type": "", "msg": str(exc), "input": None}
    loc = [_cut(str(p), MAX_KEY_CHARS) for p in first["loc"]]
    if loc and names and loc[0] in names:
        loc[0] = names[loc[0]]
    key = ".".join(p for p in [where, *loc] if p)
    line = _problem(first, model, [str(p) for p in first["loc"]])
    more = f" (and {len(errors) - 1} more)" if len(errors) > 1 else ""
    if not key and first["type"] == "value_error":  # a check across keys names them itself
        return _cut(f"{line}{more}")
    return _cut(f"{key or 'top level'}: {line}{more}")


def _problem(error: Any, model: Any, loc: list[str]) -> str:
    kind, ctx = error["type"], error.get("ctx") or {}
    if kind == "extra_forbidden":
        allowed = fields_at(model, loc[:-1])
        return "unknown key" + (f"; allowed: {', '.join(allowed)}" if allowed else "")
    if kind == "value_error":
        return str(ctx.get("error", error["msg"])).removeprefix("Value error, ")
    if kind == "literal_error":
        text = f"expected one of {ctx.get('expected', '')}"
    else:
        text = EXPECTED.get(kind) or _lower_first(str(error["msg"]))
    if kind == "missing" or is_secret(model, loc):
        return text
    return f"{text}, got {_short(error.get('input'))}"


def fields_at(model: Any, loc: Iterable[str]) -> list[str]:
    """The field names of the sub-model found at `loc` (empty when `loc` leads elsewhere)."""
    for part in loc:
        field = getattr(model, "model_fields", {}).get(part)
        if field is None:
            return []
        model = _model_of(field.annotation)
    return sorted(getattr(model, "model_fields", {}))


def is_secret(model: Any, loc: list[str]) -> bool:
    """Whether the field at `loc` holds a secret (its value must never be shown)."""
    for part in loc:
        field = getattr(model, "model_fields", {}).get(part)
        if field is None:
            return False
        model = field.annotation
        if _holds_secret(model) or field.repr is False:  # repr=False marks a secret kept as plain text
            return True
        model = _model_of(model)
    return False


def _holds_secret(annotation: Any) -> bool:
    if annotation in (SecretStr, SecretBytes):
        return True
    return any(_holds_secret(a) for a in get_args(annotation))


def _model_of(annotation: Any) -> Any:
    """The BaseModel inside `X | None` (or the annotation itself)."""
    if get_origin(annotation) in (Union, type(int | None)):
        return next((a for a in get_args(annotation) if isinstance(a, type) and issubclass(a, BaseModel)), None)
    return annotation


def _short(value: Any) -> str:
    if isinstance(value, Mapping | BaseModel):
        return "a mapping"
    text = repr(value)
    return text if len(text) <= MAX_VALUE_CHARS else text[:MAX_VALUE_CHARS - 1] + "…"


def _lower_first(text: str) -> str:
    return text[:1].lower() + text[1:]


def _cut(line: str, limit: int = MAX_MESSAGE_CHARS) -> str:
    line = " ".join(line.split())
    return line if len(line) <= limit else line[:limit - 1] + "…"
