"""Findings: what validation reports about a file, as plain data every renderer and the bot share."""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import Literal

Severity = Literal["error", "warning"]


@dataclass(frozen=True)
class Finding:
    """One problem in one file. Lines and columns are 1-based; 0 means 'the whole file'."""

    rule: str  # stable rule id, e.g. "schema", "yaml-syntax", "attribution-missing"
    severity: Severity
    path: str  # repository-relative, forward slashes
    line: int
    col: int
    message: str  # what is wrong, in words a first-time contributor understands
    hint: str = ""  # how to fix it

    def to_dict(self) -> dict:
        return asdict(self)


@dataclass
class FileReport:
    """All findings for one file; `valid` means no errors (warnings allowed)."""

    path: str
    findings: list[Finding] = field(default_factory=list)

    @property
    def valid(self) -> bool:
        return not any(f.severity == "error" for f in self.findings)

    @property
    def errors(self) -> list[Finding]:
        return [f for f in self.findings if f.severity == "error"]

    @property
    def warnings(self) -> list[Finding]:
        return [f for f in self.findings if f.severity == "warning"]


@dataclass(frozen=True)
class Issue:
    """A finding before it knows its file and severity: what checks return, so they stay pure."""

    rule: str
    line: int
    col: int
    message: str
    hint: str = ""
