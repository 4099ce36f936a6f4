"""The release tag format: only named plain fields, checked where it is read and rendered without str.format.

`str.format` walks attributes and indexes of the objects it is given (`{date.__class__...}`), so a
template from `.github/arborist.yml` or `lab publish --tag-format` could copy the process's memory
(tokens included) into a public tag. A template here is parsed into literal text and bare field
names; a field is one of FIELDS, with no attribute or index access and no `!r`/`!s`/`!a`
conversion; only `date` takes a spec, and that spec is strftime codes and tag characters only.
"""

from __future__ import annotations

import re
import string
from datetime import datetime

FIELDS = ("date", "sha", "shortsha", "short_sha")
ALLOWED_TEXT = "{date} (YYYYMMDD) or {date:%Y.%m.%d} (strftime codes %Y %m %d %H %M %S %y %j), {sha}, {shortsha}"
DEFAULT_DATE_SPEC = "%Y%m%d"
MAX_TAG_FORMAT_CHARS = 100  # the same bound as schemas/arborist_config.json
SHORT_SHA = 7
DATE_SPEC = re.compile(r"(?:%[YmdHMSyj]|[A-Za-z0-9._\-])*")  # strftime codes of digits, and tag characters


class TagFormatError(ValueError):
    """The template names something other than the documented fields; the message lists them."""


def _refuse(template: str, reason: str) -> TagFormatError:
    return TagFormatError(f"tag_format {template[:MAX_TAG_FORMAT_CHARS]!r}: {reason}; allowed fields: {ALLOWED_TEXT}")


def parse_tag_format(template: object) -> list[tuple[str, str | None, str]]:
    """(literal text, field or None, date spec) pieces of a valid template; TagFormatError otherwise."""
    if not isinstance(template, str) or not template:
        raise TagFormatError(f"tag_format must be a non-empty string; allowed fields: {ALLOWED_TEXT}")
    if len(template) > MAX_TAG_FORMAT_CHARS:
        raise _refuse(template, f"longer than {MAX_TAG_FORMAT_CHARS} characters")
    try:
        raw = list(string.Formatter().parse(template))
    except ValueError as exc:  # unbalanced braces
        raise _refuse(template, str(exc)) from None
    pieces: list[tuple[str, str | None, str]] = []
    for literal, name, spec, conversion in raw:
        if name is None:
            pieces.append((literal, None, ""))
            continue
        if name not in FIELDS:
            raise _refuse(template, f"{{{name}}} is not a field (no attribute, index or positional access)")
        if conversion:
            raise _refuse(template, f"conversion !{conversion} is not allowed")
        spec = spec or ""
        if spec and name != "date":
            raise _refuse(template, f"{{{name}}} takes no format spec")
        if not DATE_SPEC.fullmatch(spec):
            raise _refuse(template, f"date spec {spec!r} may hold only strftime codes and letters, digits, . _ -")
        pieces.append((literal, name, spec))
    return pieces


def check_tag_format(template: object) -> str:
    """The template itself when it is valid; TagFormatError (listing the allowed fields) otherwise."""
    parse_tag_format(template)
    return str(template)


def render_tag_format(template: str, when: datetime, sha: str) -> str:
    """Fill the fields with plain strings: the date (strftime), the full SHA and its first 7 characters."""
    values = {"sha": sha, "shortsha": sha[:SHORT_SHA], "short_sha": sha[:SHORT_SHA]}
    out = []
    for literal, name, spec in parse_tag_format(template):
        out.append(literal)
        if name == "date":
            out.append(when.strftime(spec or DEFAULT_DATE_SPEC))
        elif name is not None:
            out.append(values[name])
    return "".join(out)
