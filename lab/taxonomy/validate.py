"""Validating taxonomy files: one core on bytes, fed by the GitHub API (validate_files) or the disk (validate_paths).

Both feed the same `check_file`, so the same bytes give the same findings wherever they come from.
"""

from __future__ import annotations

import os
import stat
from collections.abc import Callable, Iterable, Sequence
from pathlib import Path

from lab.taxonomy.attribution import ATTRIBUTION, attribution_issues
from lab.taxonomy.config import ValidationConfig
from lab.taxonomy.content import document_issues, duplicate_issues, length_issues, questions_of, seed_texts
from lab.taxonomy.duplicates import Question, QuestionIndex
from lab.taxonomy.findings import FileReport, Finding, Issue
from lab.taxonomy.invisible import escape_invisible, invisible_issues
from lab.taxonomy.leaf import TAXONOMY_ROOTS
from lab.taxonomy.lint import lint_issues
from lab.taxonomy.loader import load_yaml
from lab.taxonomy.paths import LEAF_NAME, YAML_SUFFIXES, name_hint, sibling
from lab.taxonomy.schema import SUPPORTED, file_version, schema_issues, schema_kind

Reader = Callable[[str], "bytes | None"]


def yaml_scalar(value: object) -> str:
    """A value as it would be written in YAML (true, not True), shortened for messages."""
    text = str(value).lower() if isinstance(value, bool) else str(value)
    return text if len(text) <= 40 else text[:37] + "..."


MAX_INDEX_LOOKUPS = 1_000  # questions per file checked against the rest of the taxonomy (bounded time)


def check_file(path: str, data: bytes, read: Reader, config: ValidationConfig) -> tuple[list[Finding], list[Question]]:
    """All findings for one taxonomy file's bytes (attribution.txt fetched through `read`), and its questions."""
    name = path.rsplit("/", 1)[-1]
    if name != LEAF_NAME:
        issue = Issue("file-name", 1, 1, f"Taxonomy files must be named `qna.yaml`; `{name}` is not checked by "
                      "the taxonomy tools and would be ignored.", name_hint(name))
        return _findings(path, [issue], config), []
    loaded = load_yaml(data, config.limits)
    issues = list(loaded.issues)
    if loaded.fatal:
        return _findings(path, issues, config), []
    content = loaded.data
    if not content:
        issues.append(Issue("empty-file", 1, 1, "The file is empty.",
                            "Start from the template for your kind of contribution (knowledge or skill)."))
        return _findings(path, issues, config), []
    if not isinstance(content, dict):
        issues.append(Issue("not-a-mapping", 1, 1, "The file must consist of `key: value` lines at the top level "
                            f"(it is a {'list' if isinstance(content, list) else 'single value'}).",
                            "Start with `version: 3`, `created_by: ...` on lines of their own, not `- `."))
        return _findings(path, issues, config), []
    if "version" not in content:
        issues.append(Issue("version-missing", 1, 1, "There is no `version:`, so this is read as the old "
                            "version 1 format.", "New files should start with `version: 3`."))
    version = file_version(content)
    extra: list[Finding] = []
    if version not in (1, 2, 3):
        line, col = loaded.where(("version",))
        shown = yaml_scalar(content.get("version"))
        issues.append(Issue("version-unsupported", line, col, f"`version: {shown}` is not a known format "
                            "version (1, 2 or 3).", "Use `version: 3`."))
        return _findings(path, issues, config), questions_of(loaded)
    kind = schema_kind(path, content)
    if version > 1:
        issues.extend(lint_issues(loaded.text or ""))
    if (kind, version) in SUPPORTED:
        issues.extend(schema_issues(loaded, kind, version))
    else:
        line, col = loaded.where(("version",))
        issues.append(Issue("knowledge-version-unsupported", line, col, f"Knowledge files in version {version} "
                            "are no longer supported; knowledge needs version 3 (with `document:`, "
                            "`document_outline:` and seed examples that each have a context and 3 questions).",
                            "Convert the file to version 3; see docs/template_qna.yaml in the taxonomy repository."))
    if version >= 2:
        attribution_path = sibling(path, ATTRIBUTION)
        attribution, exists = attribution_issues(read(attribution_path), config.limits)
        if not exists:
            issues.append(Issue("attribution-missing", 1, 1, "There is no attribution.txt next to this file; "
                                f"version {version} files need one.", "Add attribution.txt in the same folder with "
                                "`Title of work:`, `Link to work:`, `License of the work:` and `Creator names:`."))
        extra = _findings(attribution_path, attribution, config)
    texts = seed_texts(content)
    questions = questions_of(loaded, texts, kind)
    issues.extend(length_issues(loaded, kind, config, texts))
    issues.extend(duplicate_issues(questions, config))
    issues.extend(document_issues(loaded, config.allow_local_docs))
    issues.extend(invisible_issues(loaded))
    return _findings(path, issues, config) + extra, questions


def _findings(path: str, issues: Iterable[Issue], config: ValidationConfig) -> list[Finding]:
    out = []
    for issue in issues:
        severity = config.severity_of(issue.rule)
        if severity != "off":
            out.append(Finding(issue.rule, severity, path, issue.line, issue.col,  # type: ignore[arg-type]
                               escape_invisible(issue.message), escape_invisible(issue.hint)))
    return out


def _report(path: str, read: Reader, config: ValidationConfig, index: QuestionIndex | None) -> FileReport:
    try:
        data = read(path)
        if data is None:
            issue = Issue("not-a-file", 0, 0, "The file does not exist or is not a regular file.",
                          "Check the path; a taxonomy file must be a regular file in the repository.")
            return FileReport(path, _findings(path, [issue], config))
        findings, questions = check_file(path, data, read, config)
        if index is not None:
            findings.extend(_findings(path, _index_issues(path, questions, index), config))
    except Exception as exc:  # noqa: BLE001 - never let one hostile file stop the run
        issue = Issue("internal-error", 0, 0, f"Arborist failed on this file: {type(exc).__name__}: {exc}",
                      "Please report this with the file attached.")
        return FileReport(path, _findings(path, [issue], config))
    findings.sort(key=lambda f: (f.path != path, f.path, f.line, f.col))
    return FileReport(path, findings)


def _index_issues(path: str, questions: list[Question], index: QuestionIndex) -> list[Issue]:
    issues = []
    for question in [q for q in questions if not q.context][:MAX_INDEX_LOOKUPS]:  # grounded: context-bound
        match = index.match(path, question.text)
        if match:
            other_path, other_text, exact = match
            how = "the same question" if exact else "a nearly identical question"
            issues.append(Issue("duplicate-question-taxonomy", question.line, question.col,
                                f"{other_path} already has {how}: \"{other_text.strip()[:80]}\".",
                                "Ask about something the taxonomy does not cover yet."))
    return issues


def validate_files(paths: Sequence[str], read: Reader, config: ValidationConfig | None = None,
                   index: QuestionIndex | None = None) -> list[FileReport]:
    """Validate repository-relative files whose bytes come from `read` (None: absent). Used by the bot."""
    config = config or ValidationConfig()
    return [_report(path, read, config, index) for path in paths]


def read_regular_file(path: Path, max_bytes: int) -> bytes | None:
    """Bytes of a regular file (never a symlink, FIFO or device), at most max_bytes + 1 of them."""
    try:
        info = os.lstat(path)
        if not stat.S_ISREG(info.st_mode):
            return None
        fd = os.open(path, os.O_RDONLY | getattr(os, "O_NOFOLLOW", 0) | getattr(os, "O_NONBLOCK", 0))
        with os.fdopen(fd, "rb") as handle:
            return handle.read(max_bytes + 1)
    except OSError:
        return None


def build_index(root: Path, config: ValidationConfig, leaves: Iterable[str]) -> QuestionIndex:
    """Index the questions of every leaf under `root`, for duplicates across the taxonomy."""
    index = QuestionIndex(threshold=config.limits.near_duplicate)
    for leaf in leaves:
        data = read_regular_file(root / leaf, config.limits.max_file_bytes)
        if data is None:
            continue
        loaded = load_yaml(data, config.limits)
        if not loaded.fatal:
            content = loaded.data if isinstance(loaded.data, dict) else {}
            index.add(leaf, [q.text for q in questions_of(loaded, kind=schema_kind(leaf, content))
                             if not q.context])
    return index


def _walk(folder: Path) -> tuple[list[Path], list[tuple[Path, str]]]:
    """Candidate files under a folder, and (path, problem) for symlinks and directories named qna.yaml."""
    files: list[Path] = []
    bad: list[tuple[Path, str]] = []
    for current, dirs, names in os.walk(folder, followlinks=False):
        here = Path(current)
        under_root = any(part in TAXONOMY_ROOTS for part in here.resolve().parts) or here.name in TAXONOMY_ROOTS
        keep = []
        for name in sorted(dirs):
            if name.startswith("."):
                continue
            if (here / name).is_symlink():
                bad.append((here / name, "is a symbolic link to a folder; links are not followed"))
            elif name == LEAF_NAME:
                bad.append((here / name, "is a folder, not a file"))
            else:
                keep.append(name)
        dirs[:] = keep
        for name in sorted(names):
            is_yaml = name == LEAF_NAME or (under_root and name.lower().endswith(YAML_SUFFIXES))
            if not is_yaml:
                continue
            if (here / name).is_symlink():
                bad.append((here / name, "is a symbolic link; taxonomy files must be regular files"))
            else:
                files.append(here / name)
    return files, bad


def validate_paths(paths: Sequence[str | Path], root: Path | None = None, config: ValidationConfig | None = None,
                   on_file: Callable[[str], None] | None = None) -> list[FileReport]:
    """Validate files and folders on disk. With `root`, paths are shown relative to it and every leaf
    under it is indexed for duplicate questions across the taxonomy."""
    config = config or ValidationConfig()
    root = Path(root).resolve() if root else None
    files: list[Path] = []
    bad: list[tuple[Path, str]] = []
    for raw in paths:
        path = Path(raw)
        if path.is_symlink():
            bad.append((path, "is a symbolic link; taxonomy files must be regular files"))
        elif path.is_dir() and path.name == LEAF_NAME:
            bad.append((path, "is a folder, not a file"))
        elif path.is_dir():
            found, problems = _walk(path)
            files.extend(found)
            bad.extend(problems)
        elif path.exists():
            files.append(path)
        else:
            bad.append((path, "does not exist"))
    shown = {_display(p, root): p for p in files}
    reports = [FileReport(_display(p, root), _findings(_display(p, root), [Issue(
        "not-a-file", 0, 0, f"`{p.name}` {why}.", "Replace it with a regular qna.yaml file.")], config))
        for p, why in bad]
    index = None
    if root is not None:
        from lab.taxonomy.discover import find_leaves

        index = build_index(root, config, find_leaves(root))

    def read(display: str) -> bytes | None:
        disk = shown.get(display)
        if disk is None:
            disk = root / display if root is not None and not os.path.isabs(display) else Path(display)
        return read_regular_file(disk, config.limits.max_file_bytes)

    for display in shown:
        reports.append(_report(display, read, config, index))
        if on_file:
            on_file(display)
    return sorted(reports, key=lambda r: r.path)


def _display(path: Path, root: Path | None) -> str:
    absolute = path.resolve() if not path.is_symlink() else path.absolute()
    if root is not None and absolute.is_relative_to(root):
        return absolute.relative_to(root).as_posix()
    cwd = Path.cwd()
    return absolute.relative_to(cwd).as_posix() if absolute.is_relative_to(cwd) else absolute.as_posix()
