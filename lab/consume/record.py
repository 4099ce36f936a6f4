"""Read a release's release.json as untrusted input: bounded, and its shape checked before any field is used.

A release record comes from whoever can write to the model repository (or a copied folder), so a
wrong type must become one clear sentence naming the field, never a traceback further down.
"""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

from lab.errors import LabError

MAX_RECORD_BYTES = 8 * 1024 * 1024
SHA256 = re.compile(r"[0-9a-f]{64}")
STRING_FIELDS = ("tag", "date", "taxonomy_repo", "taxonomy_sha", "base_model")


class RecordError(LabError, ValueError):
    """release.json is not what `lab publish` writes; the message names the field."""


def _number(value: Any) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool)


def _check_headline(headline: Any) -> None:
    if headline is None:
        return
    if not isinstance(headline, dict):
        raise RecordError(f"headline must be an object {{name, value, ci}}, not {type(headline).__name__}")
    if not isinstance(headline.get("name", ""), str):
        raise RecordError("headline.name must be a string")
    if headline.get("value") is not None and not _number(headline["value"]):
        raise RecordError(f"headline.value must be a number, not {type(headline['value']).__name__}")
    ci = headline.get("ci")
    if ci is not None and not (isinstance(ci, list) and len(ci) == 2 and all(_number(x) for x in ci)):
        raise RecordError("headline.ci must be a list of two numbers")


def _check_checksums(checksums: Any) -> None:
    if checksums is None:
        return
    if not isinstance(checksums, dict):
        raise RecordError("checksums must be an object {path: {size, sha256}}")
    for path, entry in checksums.items():
        if not isinstance(entry, dict) or not isinstance(entry.get("size"), int) or isinstance(entry["size"], bool) \
                or not SHA256.fullmatch(str(entry.get("sha256", ""))):
            raise RecordError(f"checksums[{path!r}] must be {{size: integer, sha256: 64 hex digits}}")


def check_record(record: Any) -> dict[str, Any]:
    """`record` itself when it has release.json's shape; RecordError naming the first wrong field otherwise."""
    if not isinstance(record, dict):
        raise RecordError(f"must be a JSON object, not {type(record).__name__}")
    for name in STRING_FIELDS:
        if record.get(name) is not None and not isinstance(record[name], str):
            raise RecordError(f"{name} must be a string, not {type(record[name]).__name__}")
    _check_headline(record.get("headline"))
    files = record.get("files")
    if files is not None and not (isinstance(files, list) and all(isinstance(f, str) for f in files)):
        raise RecordError("files must be a list of paths")
    _check_checksums(record.get("checksums"))
    for name in ("evaluation", "data_counts"):
        if record.get(name) is not None and not isinstance(record[name], dict):
            raise RecordError(f"{name} must be an object, not {type(record[name]).__name__}")
    return record


def parse_record(data: bytes, where: str) -> dict[str, Any]:
    """Parse and check release.json's bytes; every failure is a RecordError that starts with `where`."""
    if len(data) > MAX_RECORD_BYTES:
        raise RecordError(f"{where}: larger than {MAX_RECORD_BYTES} bytes")
    try:
        return check_record(json.loads(data))
    except RecordError as exc:
        raise RecordError(f"{where}: {exc}") from None
    except (ValueError, RecursionError) as exc:  # not UTF-8, not JSON, or nested past the parser's limit
        reason = "nested too deeply" if isinstance(exc, RecursionError) else f"not JSON ({exc})"
        raise RecordError(f"{where}: {reason}") from None


def read_record(path: Path, where: str | None = None) -> dict[str, Any]:
    """release.json from a file, checked; too large is refused before it is read whole."""
    label = where or str(path)
    if path.stat().st_size > MAX_RECORD_BYTES:
        raise RecordError(f"{label}: larger than {MAX_RECORD_BYTES} bytes")
    return parse_record(path.read_bytes(), label)
