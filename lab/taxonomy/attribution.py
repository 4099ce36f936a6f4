"""attribution.txt: present and non-empty for version >= 2 files, with the four fields, licensed by SPDX id."""

from __future__ import annotations

import re

from lab.taxonomy.config import Limits
from lab.taxonomy.findings import Issue
from lab.taxonomy.loader import decode

ATTRIBUTION = "attribution.txt"
# field -> accepted spellings of its label (lower case, before the colon)
FIELDS = {
    "title": ("title of work", "title of the work", "title"),
    "link": ("link to work", "link to the work", "link", "url"),
    "license": ("license of the work", "license of work", "license", "licence of the work", "licence"),
    "creators": ("creator names", "creator name", "creators", "creator", "authors", "author"),
}
LABELS = {"title": "Title of work", "link": "Link to work", "license": "License of the work",
          "creators": "Creator names"}
# Licenses seen in taxonomy contributions and the common open ones (SPDX ids, exact case).
SPDX_IDS = frozenset("""
0BSD AFL-3.0 AGPL-3.0-only AGPL-3.0-or-later Apache-1.1 Apache-2.0 Artistic-2.0 BSD-2-Clause BSD-3-Clause
BSD-4-Clause BSL-1.0 CC-BY-1.0 CC-BY-2.0 CC-BY-2.5 CC-BY-3.0 CC-BY-4.0 CC-BY-NC-2.0 CC-BY-NC-3.0 CC-BY-NC-4.0
CC-BY-NC-ND-3.0 CC-BY-NC-ND-4.0 CC-BY-NC-SA-2.0 CC-BY-NC-SA-3.0 CC-BY-NC-SA-4.0 CC-BY-ND-3.0 CC-BY-ND-4.0
CC-BY-SA-2.0 CC-BY-SA-2.5 CC-BY-SA-3.0 CC-BY-SA-4.0 CC-PDDC CC0-1.0 CDLA-Permissive-2.0 CDLA-Sharing-1.0
ECL-2.0 EPL-1.0 EPL-2.0 EUPL-1.2 GFDL-1.2-only GFDL-1.2-or-later GFDL-1.3-only GFDL-1.3-or-later GPL-2.0-only
GPL-2.0-or-later GPL-3.0-only GPL-3.0-or-later ISC LGPL-2.1-only LGPL-2.1-or-later LGPL-3.0-only
LGPL-3.0-or-later LicenseRef-Public-Domain MIT MIT-0 MPL-2.0 MS-PL ODC-By-1.0 ODbL-1.0 OFL-1.1 OGL-UK-3.0
PDDL-1.0 PSF-2.0 Python-2.0 Unicode-3.0 Unlicense UPL-1.0 W3C WTFPL Zlib
""".split())
_BY_UPPER = {spdx.upper(): spdx for spdx in SPDX_IDS}
MAX_LABEL_CHARS = 40


def parse_attribution(text: str) -> dict[str, tuple[str, int]]:
    """field -> (value, line) for the recognised `Label: value` lines."""
    found: dict[str, tuple[str, int]] = {}
    for number, line in enumerate(text.split("\n"), 1):  # str methods only: linear on hostile input
        label, colon, value = line.partition(":")
        if not colon or len(label) > MAX_LABEL_CHARS:
            continue
        label = label.strip().lower().replace("_", " ")
        for name, spellings in FIELDS.items():
            if label in spellings and name not in found:
                found[name] = (value.strip(), number)
    return found


def spdx_suggestion(value: str) -> str | None:
    """The SPDX id a free-text license most likely means ('CC BY-SA 4.0' -> 'CC-BY-SA-4.0')."""
    guess = re.sub(r"[\s_]+", "-", value.strip().rstrip(".")).upper()
    guess = guess.replace("APACHE-LICENSE-VERSION-", "APACHE-").replace("APACHE-LICENSE-", "APACHE-")
    return _BY_UPPER.get(guess)


def is_spdx_expression(value: str) -> bool:
    """An SPDX id, or ids joined by AND/OR/WITH (parentheses allowed)."""
    for token in re.split(r"\s+(?:AND|OR|WITH)\s+", value.strip().strip("()")):
        token = token.strip("() ").removesuffix("+")
        if token not in SPDX_IDS and not token.startswith("LicenseRef-"):
            return False
    return bool(value.strip())


def attribution_issues(data: bytes | None, limits: Limits) -> tuple[list[Issue], bool]:
    """Issues about an attribution.txt's content (reported on that file) and whether it exists."""
    if data is None:
        return [], False
    if len(data) > limits.max_attribution_bytes:  # bounded like qna.yaml: an error, not a warning
        return [Issue("attribution-too-large", 0, 0, "attribution.txt is larger than the limit of "
                      f"{limits.max_attribution_bytes:,} bytes.", "Keep it to the four lines " +
                      ", ".join(f"`{v}:`" for v in LABELS.values()) + ".")], True
    text, issues = decode(data, Limits(max_file_bytes=limits.max_attribution_bytes), what=ATTRIBUTION)
    issues = [i for i in issues if i.rule != "line-endings"]
    if text is None:
        return [Issue("attribution-fields", i.line, i.col, i.message, i.hint) for i in issues], True
    if not text.strip():
        return [Issue("attribution-empty", 1, 1, "attribution.txt is empty.",
                      "Say where the content comes from: " + ", ".join(f"`{v}:`" for v in LABELS.values()) +
                      " (one per line).")], True
    found = parse_attribution(text)
    out = []
    for name, label in LABELS.items():
        if name not in found or not found[name][0]:
            out.append(Issue("attribution-fields", 1, 1, f"attribution.txt has no `{label}:` line.",
                             f"Add a line `{label}: ...`."))
    if "license" in found and found["license"][0]:
        value, line = found["license"]
        if not is_spdx_expression(value):
            suggestion = spdx_suggestion(value)
            hint = (f"Write `{LABELS['license']}: {suggestion}`." if suggestion else
                    "Use the license's SPDX identifier (https://spdx.org/licenses/), e.g. CC-BY-SA-4.0.")
            out.append(Issue("attribution-license", line, 1,
                             f"The license `{value[:80]}` is not an SPDX license identifier.", hint))
    return out, True
