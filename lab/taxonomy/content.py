"""Checks beyond the schema: documented length limits, pinned public documents, duplicate questions."""

from __future__ import annotations

import re
from typing import Any
from urllib.parse import urlsplit

from lab.taxonomy.config import ValidationConfig
from lab.taxonomy.duplicates import Question, within_leaf
from lab.taxonomy.findings import Issue
from lab.taxonomy.hosts import host_problem
from lab.taxonomy.loader import Loaded
from lab.taxonomy.tokens import counter_for

FULL_SHA = re.compile(r"[0-9a-fA-F]{40}")


def seed_texts(data: Any) -> list[tuple[str, tuple, Any]]:
    """(field, path, value) for every context, question and answer, whatever the file's shape."""
    out: list[tuple[str, tuple, Any]] = []
    seeds = data.get("seed_examples") if isinstance(data, dict) else None
    if not isinstance(seeds, list):
        return out
    for i, seed in enumerate(seeds):
        if not isinstance(seed, dict):
            continue
        base = ("seed_examples", i)
        for name in ("context", "question", "answer"):
            if name in seed:
                out.append((name, (*base, name), seed[name]))
        pairs = seed.get("questions_and_answers")
        if isinstance(pairs, list):
            for j, pair in enumerate(pairs):
                if isinstance(pair, dict):
                    for name in ("question", "answer"):
                        if name in pair:
                            out.append((name, (*base, "questions_and_answers", j, name), pair[name]))
    return out


def questions_of(loaded: Loaded, texts: list[tuple[str, tuple, Any]] | None = None,
                 kind: str = "knowledge") -> list[Question]:
    """The file's questions with their positions (text values only).

    In a grounded skill a question belongs to its seed's context ("Summarise this text." is a fine
    question for every context), so it carries that context; knowledge questions stand alone.
    """
    texts = seed_texts(loaded.data) if texts is None else texts
    seeds = loaded.data.get("seed_examples") if isinstance(loaded.data, dict) else None
    out = []
    for name, path, value in texts:
        if name != "question" or not isinstance(value, str):
            continue
        context = ""
        if kind != "knowledge" and isinstance(seeds, list) and len(path) == 3:
            seed = seeds[path[1]]
            context = seed.get("context") if isinstance(seed.get("context"), str) else ""
        out.append(Question(value, *loaded.where(path), context=context))
    return out


def length_issues(loaded: Loaded, kind: str, config: ValidationConfig,
                  texts: list[tuple[str, tuple, Any]] | None = None) -> list[Issue]:
    """Knowledge contexts under `context_tokens`; questions and answers at most `qa_tokens`."""
    count, unit = counter_for(config.tokenizer)
    limits = config.limits
    issues = []
    for name, path, value in seed_texts(loaded.data) if texts is None else texts:
        if not isinstance(value, str):
            continue
        if name == "context":
            if kind != "knowledge" or len(value) < limits.context_tokens:  # fewer chars than tokens: fine
                continue
            tokens = count(value)
            if tokens >= limits.context_tokens:
                issues.append(Issue("context-too-long", *loaded.where(path),
                                    f"This context is {tokens} {unit}; it should be under {limits.context_tokens}.",
                                    "Shorten the excerpt, or split it into two seed examples with their own "
                                    "questions."))
        elif len(value) > limits.qa_tokens:
            tokens = count(value)
            if tokens > limits.qa_tokens:
                issues.append(Issue(f"{name}-too-long", *loaded.where(path),
                                    f"This {name} is {tokens} {unit}; the limit is {limits.qa_tokens}.",
                                    f"Make the {name} shorter and more focused."))
    return issues


def duplicate_issues(questions: list[Question], config: ValidationConfig) -> list[Issue]:
    issues = []
    for later, earlier, exact in within_leaf(questions, config.limits.near_duplicate):
        if exact:
            issues.append(Issue("duplicate-question", later.line, later.col,
                                f"This question repeats the one on line {earlier.line}.",
                                "Each seed question should be different; remove or rewrite one of them."))
        else:
            issues.append(Issue("near-duplicate-question", later.line, later.col,
                                f"This question is nearly the same as the one on line {earlier.line}: "
                                f"\"{earlier.text.strip()[:80]}\".",
                                "Varied seed questions give better synthetic data; ask about something else."))
    return issues


def document_issues(loaded: Loaded, allow_local: bool = False) -> list[Issue]:
    """The document must be pinned (full SHA), public (https, no private hosts) and stay in its repo."""
    document = loaded.data.get("document") if isinstance(loaded.data, dict) else None
    if not isinstance(document, dict):
        return []
    issues = []
    commit = document.get("commit")
    if isinstance(commit, str) and commit and not FULL_SHA.fullmatch(commit):
        issues.append(Issue("document-commit", *loaded.where(("document", "commit")),
                            f"`document.commit` is `{commit[:60]}`; it must be the full 40-character commit SHA.",
                            "Run `git rev-parse HEAD` in the document repository and paste the whole output; "
                            "a short SHA or a branch name can change meaning later."))
    repo = document.get("repo")
    if isinstance(repo, str) and repo:
        problem = repo_problem(repo, allow_local)
        if problem:
            issues.append(Issue("document-repo", *loaded.where(("document", "repo")), problem,
                                "Use the public https URL of the repository, e.g. https://github.com/you/docs."))
    patterns = document.get("patterns")
    if isinstance(patterns, list):
        for i, pattern in enumerate(patterns):
            if isinstance(pattern, str) and pattern_escapes(pattern):
                issues.append(Issue("document-pattern", *loaded.where(("document", "patterns", i)),
                                    f"The pattern `{pattern[:80]}` points outside the document repository.",
                                    "Write a path relative to the repository root without `..`, e.g. `docs/*.md`."))
    return issues


def repo_problem(url: str, allow_local: bool = False) -> str | None:
    """Why a document URL is unacceptable, or None. Hosts are read as git and libc read them (see hosts.py)."""
    if allow_local and is_local_repo(url):
        return None
    try:
        parts = urlsplit(url)
        host = parts.hostname or ""
        parts.port  # noqa: B018 - raises ValueError on a port that is not a number
    except ValueError:
        return f"`document.repo` is not a valid URL: `{url[:80]}`."
    if parts.scheme != "https":
        local = " (local repositories need `lab --allow-local-docs`; never in a pull request)" if \
            is_local_repo(url) else ""
        return f"`document.repo` must start with https:// (got `{parts.scheme or url[:40]}`){local}."
    if parts.username or parts.password:
        return "`document.repo` contains a user name or password; never put credentials in a URL."
    if not host:
        return "`document.repo` has no host name."
    problem = host_problem(host)
    if problem:
        return f"`document.repo` points at a host that is not public: `{host[:80]}` {problem}."
    return None


def is_local_repo(url: str) -> bool:
    """A file:// URL or a path (no scheme): what --allow-local-docs accepts."""
    return url.startswith("file://") or "://" not in url and not re.match(r"^[\w.-]+@[\w.-]+:", url)


def pattern_escapes(pattern: str) -> bool:
    """Absolute paths, drive letters and `..` segments could read outside the repository."""
    if pattern.startswith(("/", "\\", "~")) or re.match(r"[A-Za-z]:", pattern) or "\x00" in pattern:
        return True
    return ".." in re.split(r"[\\/]", pattern)
