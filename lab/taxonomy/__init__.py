"""Taxonomy files: load them safely, validate them (schema and rules), diff revisions, report findings."""

from lab.taxonomy.findings import FileReport, Finding, Severity

__all__ = ["FileReport", "Finding", "Severity"]
