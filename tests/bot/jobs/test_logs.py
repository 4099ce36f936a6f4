"""The status comment's log link: the bot serves every attempt's log of a job, bounded, and nothing else."""

from __future__ import annotations

from fastapi.testclient import TestClient

from bot.jobs.logs import read_job_log
from bot.server import create_app
from sandbox.fakes.github import FakeGitHub
from tests.bot.helpers import settings_for


def test_all_attempts_are_served_in_order_under_the_log_link(tmp_path):
    logs = tmp_path / "logs"
    logs.mkdir()
    (logs / "job-7-attempt-2.log").write_text("second try: done\n")
    (logs / "job-7-attempt-1.log").write_text("first try: worker lost\n")
    (logs / "job-17-attempt-1.log").write_text("another job\n")
    app = create_app(settings_for(tmp_path), lambda installation: FakeGitHub())
    with TestClient(app) as client:
        answer = client.get("/jobs/7/log")
        missing = client.get("/jobs/8/log")
        not_a_number = client.get("/jobs/abc/log")
        traversal = client.get("/jobs/..%2F..%2Fdeliveries/log")
    assert answer.status_code == 200
    assert answer.text.index("first try") < answer.text.index("second try")
    assert "another job" not in answer.text
    assert missing.status_code == 404
    assert not_a_number.status_code == 422
    assert traversal.status_code == 404


def test_a_huge_log_is_cut_to_its_tail(tmp_path):
    (tmp_path / "job-3-attempt-1.log").write_text("x" * 5000 + "THE END\n")
    text = read_job_log(tmp_path, 3, max_bytes=100)
    assert text is not None and text.endswith("THE END\n") and text.startswith("[first ")
    assert len(text) < 200


def test_symlinked_logs_are_not_followed(tmp_path):
    secret = tmp_path / "secret.txt"
    secret.write_text("do not serve")
    (tmp_path / "job-4-attempt-1.log").symlink_to(secret)
    assert read_job_log(tmp_path, 4) is None
