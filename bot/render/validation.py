"""Validation results as GitHub text: check-run annotations and summary, and the living PR comment.

Pure functions over `FileReport`s. The comment starts with a hidden marker so the handler can
find and edit it on later pushes instead of posting another. Text is bounded to GitHub's limits.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence

from lab.github.protocol import Annotation, CheckConclusion, CheckRunOutput
from lab.taxonomy.findings import FileReport, Finding

CHECK_NAME = "arborist/validate"
COMMENT_MARKER = "<!-- arborist:validation-summary -->"
MAX_ANNOTATIONS_PER_REQUEST = 50  # GitHub's limit per create/update call
MAX_TEXT_CHARS = 60_000  # GitHub caps check summaries and comment bodies at 65,535 characters
MAX_FINDINGS_PER_FILE_IN_COMMENT = 20  # the check run carries all of them
LEVELS = {"error": "failure", "warning": "warning"}
ICONS = {True: "✅", False: "❌"}


def conclusion_for(reports: Sequence[FileReport]) -> CheckConclusion:
    """Failure when any file has an error; warnings alone pass."""
    return "failure" if any(not r.valid for r in reports) else "success"


def annotation_for(finding: Finding) -> Annotation:
    """One finding on its line (line 0, 'the whole file', goes on line 1)."""
    line = max(finding.line, 1)
    message = finding.message + (f"\n\nHow to fix: {finding.hint}" if finding.hint else "")
    column = finding.col if finding.col > 0 else None
    return Annotation(path=finding.path, start_line=line, end_line=line, level=LEVELS.get(finding.severity, "notice"),  # type: ignore[arg-type]
                      message=message[:64_000], title=f"{finding.rule} ({finding.severity})",
                      start_column=column, end_column=column)


def annotations_for(reports: Iterable[FileReport]) -> list[Annotation]:
    return [annotation_for(f) for r in reports for f in sorted(r.findings, key=lambda f: (f.line, f.col))]


def batches(items: Sequence[Annotation], size: int = MAX_ANNOTATIONS_PER_REQUEST) -> list[tuple[Annotation, ...]]:
    """Split annotations into request-sized batches; always at least one (possibly empty) batch."""
    return [tuple(items[i:i + size]) for i in range(0, len(items), size)] or [()]


def _bounded(text: str) -> str:
    if len(text) <= MAX_TEXT_CHARS:
        return text
    return text[:MAX_TEXT_CHARS] + "\n\n…(cut here: GitHub limits the length of this text; see the annotations)\n"


def _counts(reports: Sequence[FileReport]) -> tuple[int, int]:
    return sum(len(r.errors) for r in reports), sum(len(r.warnings) for r in reports)


def check_output(reports: Sequence[FileReport], config_problems: Sequence[str] = (),
                 annotations: tuple[Annotation, ...] = ()) -> CheckRunOutput:
    """Title, summary table and notes for the check run; annotations are passed per batch."""
    errors, warnings = _counts(reports)
    if not reports:
        title = "No taxonomy files changed"
    elif errors:
        title = f"{errors} error{'s' * (errors != 1)} in {sum(not r.valid for r in reports)} of {len(reports)} files"
    else:
        title = f"{len(reports)} taxonomy file{'s' * (len(reports) != 1)} valid" + (
            f" ({warnings} warning{'s' * (warnings != 1)})" if warnings else "")
    lines = []
    if reports:
        lines += ["| file | result | errors | warnings |", "| --- | --- | ---: | ---: |"]
        lines += [f"| `{r.path}` | {ICONS[r.valid]} | {len(r.errors)} | {len(r.warnings)} |" for r in reports]
    else:
        lines.append("This pull request changes no `qna.yaml` file, so there is nothing to validate.")
    if config_problems:
        lines += ["", "**Repository config problems** (defaults were used where noted):", ""]
        lines += [f"- {p}" for p in config_problems]
    if errors or warnings:
        lines += ["", "Every problem is annotated on its line in the *Files changed* tab."]
    return CheckRunOutput(title=title, summary=_bounded("\n".join(lines)), annotations=annotations)


def _finding_line(f: Finding) -> str:
    where = f"line {f.line}" if f.line > 0 else "whole file"
    badge = "**error**" if f.severity == "error" else "warning"
    text = f"- {badge} ({where}, `{f.rule}`): {f.message}"
    if f.hint:
        text += f"\n  - How to fix: {f.hint}"
    return text


def comment_body(reports: Sequence[FileReport], head_sha: str, config_problems: Sequence[str] = (),
                 author: str = "") -> str:
    """The living summary comment: per file what is wrong and how to fix it, or what happens next."""
    errors, warnings = _counts(reports)
    hello = f"Thanks for your contribution, @{author}! " if author else "Thanks for your contribution! "
    out = [COMMENT_MARKER, f"### Arborist taxonomy check for `{head_sha[:7]}`", ""]
    if errors:
        out.append(hello + f"I found {errors} problem{'s' * (errors != 1)} that must be fixed before this "
                   "can be merged. Each one is listed below with how to fix it; push a new commit and I "
                   "will check again and update this comment.")
    else:
        out.append(hello + f"All {len(reports)} changed taxonomy file{'s' * (len(reports) != 1)} passed validation.")
    for report in reports:
        if not report.findings:
            continue
        out += ["", f"#### {ICONS[report.valid]} `{report.path}`", ""]
        shown = sorted(report.findings, key=lambda f: (f.severity != "error", f.line, f.col))
        out += [_finding_line(f) for f in shown[:MAX_FINDINGS_PER_FILE_IN_COMMENT]]
        if len(shown) > MAX_FINDINGS_PER_FILE_IN_COMMENT:
            out.append(f"- …and {len(shown) - MAX_FINDINGS_PER_FILE_IN_COMMENT} more (see the check run's annotations)")
    valid = [r.path for r in reports if not r.findings]
    if valid and errors:
        out += ["", "Files without problems: " + ", ".join(f"`{p}`" for p in valid)]
    if config_problems:
        out += ["", "<details><summary>Repository config problems (for maintainers)</summary>", ""]
        out += [f"- {p}" for p in config_problems] + ["", "</details>"]
    out += ["", "**What happens next**", ""]
    if errors:
        out.append("Fix the problems above and push; you can run the same checks locally with "
                   "`lab validate <path/to/qna.yaml>`.")
    else:
        if warnings:
            out.append(f"There {'is' if warnings == 1 else 'are'} {warnings} warning{'s' * (warnings != 1)} "
                       "worth a look, but nothing blocks the merge.")
        out.append("A maintainer will review the pull request and may comment `/generate` to see synthetic "
                   "training samples made from your examples. Once merged, your contribution goes into the "
                   "next retrained model.")
    return _bounded("\n".join(out) + "\n")
