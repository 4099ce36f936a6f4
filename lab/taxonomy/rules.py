"""The rule registry: every finding's id, its default severity, and one line on what it catches.

Rules marked `upstream` mirror what the reference InstructLab tools (schema package + taxonomy CI)
already reject; the others are Arborist's stricter or additional checks. Docs are rendered from here.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

RuleSeverity = Literal["error", "warning", "off"]


@dataclass(frozen=True)
class Rule:
    id: str
    severity: RuleSeverity  # the default; ValidationConfig.severity overrides it
    description: str
    upstream: bool  # True: the reference tools reject (or warn about) this too


_RULES = [
    # Reading the file: hostile input becomes a finding, never a crash.
    Rule("internal-error", "error", "Arborist failed on this file (a bug: please report it)", False),
    Rule("not-a-file", "error", "the path is a symlink, a directory, missing or unreadable", True),
    Rule("file-name", "error", "a taxonomy file must be named exactly `qna.yaml`", True),
    Rule("file-too-large", "error", "the file is larger than `limits.max_file_bytes`", False),
    Rule("binary-file", "error", "the file contains NUL bytes (binary data, not YAML text)", True),
    Rule("encoding", "error", "the file is not valid UTF-8", True),
    Rule("control-character", "error", "a character YAML does not allow (control characters)", True),
    Rule("line-too-long", "error", "a line is longer than `limits.max_line_chars` characters", False),
    Rule("yaml-syntax", "error", "the YAML cannot be parsed", True),
    Rule("nesting-depth", "error", "lists and mappings are nested deeper than `limits.max_depth`", False),
    Rule("too-many-values", "error", "more than `limits.max_nodes` values, counting what anchors and aliases repeat (billion laughs)", False),
    Rule("too-many-items", "error", "a list or mapping has more than `limits.max_items` entries", False),
    Rule("empty-file", "error", "the file has no content", False),
    Rule("not-a-mapping", "error", "the top level must be `key: value` pairs", True),
    Rule("duplicate-key", "error", "the same key appears twice in one mapping (YAML keeps only the last)", False),
    Rule("format-character", "warning", "a value holds an invisible format control (Unicode Cf: bidi override U+202E, zero width U+200B)", False),
    Rule("format-character-key", "error", "a key holds an invisible format control, so it is not the key it looks like", False),
    Rule("lookalike-key", "error", "a key is written with look-alike letters (Cyrillic `а` for Latin `a`); shown escaped", False),
    # Format version and schema.
    Rule("version-missing", "warning", "no `version:` key: read as version 1; new files should say `version: 3`", False),
    Rule("version-unsupported", "error", "`version:` is not 1, 2 or 3", True),
    Rule("knowledge-version-unsupported", "error", "knowledge files must use version 3 (1 and 2 are unsupported)", True),
    Rule("schema", "error", "the content does not match the schema for its kind and version", True),
    Rule("yaml-implicit-type", "error", "YAML 1.1 turned unquoted text (yes, no, on, 1.10, 12:30) into a non-string", True),
    # yamllint (relaxed, no line-length), applied to version >= 2 as upstream CI does.
    Rule("trailing-spaces", "error", "spaces or tabs at the end of a line (yamllint)", True),
    Rule("newline-at-eof", "error", "the file does not end with a newline (yamllint)", True),
    Rule("empty-lines", "warning", "too many blank lines (yamllint)", True),
    Rule("colons", "warning", "spaces around `:` (yamllint)", True),
    Rule("hyphens", "warning", "more than one space after a list `-` (yamllint)", True),
    Rule("commas", "warning", "spaces around `,` in `[a, b]` (yamllint)", True),
    Rule("brackets", "warning", "more than one space inside `[ ]` (yamllint)", True),
    Rule("braces", "warning", "more than one space inside `{ }` (yamllint)", True),
    Rule("line-endings", "warning", "Windows (CRLF) line endings", False),
    # attribution.txt (taxonomy CI requires it for version >= 2).
    Rule("attribution-missing", "error", "no `attribution.txt` next to a version >= 2 file", True),
    Rule("attribution-too-large", "error", "`attribution.txt` is larger than `limits.max_attribution_bytes`", False),
    Rule("attribution-empty", "error", "`attribution.txt` is empty", False),
    Rule("attribution-fields", "warning", "`attribution.txt` lacks a title, link, license or creators line", False),
    Rule("attribution-license", "warning", "the license in `attribution.txt` is not an SPDX identifier", False),
    # Limits documented by InstructLab that its tools never enforce.
    Rule("context-too-long", "warning", "a knowledge context is not under `limits.context_tokens` tokens", False),
    Rule("question-too-long", "warning", "a question is longer than `limits.qa_tokens` tokens", False),
    Rule("answer-too-long", "warning", "an answer is longer than `limits.qa_tokens` tokens", False),
    # Duplicates.
    Rule("duplicate-question", "warning", "the same question appears twice in one file", False),
    Rule("near-duplicate-question", "warning", "two questions in one file are nearly the same", False),
    Rule("duplicate-question-taxonomy", "warning", "a question (or a near copy) is already in another leaf", False),
    # Knowledge documents: pinned, public, and inside the repository.
    Rule("document-commit", "error", "`document.commit` must be a full 40-character hex SHA", False),
    Rule("document-repo", "error", "`document.repo` must be a public https URL", False),
    Rule("document-pattern", "error", "a `document.patterns` entry is absolute or contains `..`", False),
]

RULES: dict[str, Rule] = {rule.id: rule for rule in _RULES}

