"""Taxonomy files: load them safely, validate them (schema and rules), diff revisions, report findings."""

from lab.taxonomy.config import Limits, ValidationConfig
from lab.taxonomy.duplicates import QuestionIndex
from lab.taxonomy.findings import FileReport, Finding, Issue, Severity
from lab.taxonomy.rules import RULES
from lab.taxonomy.validate import check_file, validate_files, validate_paths

__all__ = [
    "RULES",
    "FileReport",
    "Finding",
    "Issue",
    "Limits",
    "QuestionIndex",
    "Severity",
    "ValidationConfig",
    "check_file",
    "validate_files",
    "validate_paths",
]
