"""Check-run and comment text: annotations on the right lines, GitHub's limits respected."""

from __future__ import annotations

from bot.render.validation import (
    COMMENT_MARKER,
    MAX_TEXT_CHARS,
    annotation_for,
    batches,
    check_output,
    comment_body,
    conclusion_for,
)
from lab.taxonomy.findings import FileReport, Finding

PATH = "knowledge/a/qna.yaml"


def _finding(line: int, severity: str = "error", col: int = 3) -> Finding:
    return Finding("schema", severity, PATH, line, col, f"problem on {line}", "do this")  # type: ignore[arg-type]


def test_whole_file_findings_go_on_line_one_and_levels_map():
    a = annotation_for(_finding(0, col=0))
    assert (a.start_line, a.end_line, a.start_column, a.level) == (1, 1, None, "failure")
    w = annotation_for(_finding(7, "warning"))
    assert (w.start_line, w.start_column, w.level, w.title) == (7, 3, "warning", "schema (warning)")
    assert "How to fix: do this" in w.message


def test_batches_hold_at_most_fifty_and_keep_order():
    items = [annotation_for(_finding(i + 1)) for i in range(120)]
    parts = batches(items)
    assert [len(p) for p in parts] == [50, 50, 20] and parts[2][-1].start_line == 120
    assert batches([]) == [()]


def test_warnings_alone_pass_and_errors_fail():
    assert conclusion_for([FileReport(PATH, [_finding(2, "warning")])]) == "success"
    assert conclusion_for([FileReport(PATH, [_finding(2)])]) == "failure"
    assert conclusion_for([]) == "success"


def test_texts_stay_within_githubs_limits_even_for_huge_reports():
    many = [FileReport(f"knowledge/t{i}/qna.yaml", [_finding(j + 1) for j in range(30)]) for i in range(400)]
    assert len(check_output(many).summary) <= MAX_TEXT_CHARS + 200
    body = comment_body(many, "a" * 40)
    assert len(body) <= MAX_TEXT_CHARS + 200 and body.startswith(COMMENT_MARKER)
    assert "…and 10 more" in body


def test_comment_for_a_clean_pr_says_what_happens_next():
    body = comment_body([FileReport(PATH, [_finding(4, "warning")])], "b" * 40, author="newcomer")
    assert "@newcomer" in body and "/generate" in body and "1 warning" in body and "How to fix" in body
    assert "must be fixed" not in body
