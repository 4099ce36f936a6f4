"""The GitHub client seam lives in lab/github so ci can use it without the bot: importing it stays cheap."""

from __future__ import annotations

import json
import subprocess
import sys

APP_LIBRARIES = ("github", "fastapi", "starlette", "uvicorn", "jwt")  # PyGithub, the web app, App auth's JWT


def _imported(code: str) -> set[str]:
    out = subprocess.run([sys.executable, "-c", f"{code}\nimport sys, json; print(json.dumps(sorted(sys.modules)))"],
                         capture_output=True, text=True, check=True, timeout=120)
    return {name.split(".")[0] for name in json.loads(out.stdout.strip().splitlines()[-1])}


def test_importing_lab_its_github_seam_and_the_ci_steps_loads_neither_pygithub_nor_the_web_app():
    loaded = _imported("import lab, lab.cli, lab.github.protocol, lab.github.factory, lab.github.pygithub_client, "
                       "lab.github.app_auth, lab.github.errors, ci.env, ci.report, ci.step, ci.generate, ci.retrain")
    assert loaded.isdisjoint(APP_LIBRARIES), sorted(loaded & set(APP_LIBRARIES))
    assert "bot" not in loaded  # ci and lab stand on their own


def test_the_adapter_loads_pygithub_only_when_a_client_is_used():
    loaded = _imported("from lab.github.pygithub_client import PyGithubClient\n"
                       "PyGithubClient('http://127.0.0.1:9', lambda: 'token')._github()")
    assert "github" in loaded


def test_one_mapping_reads_githubs_status_from_the_fakes_errors_and_from_pygithubs():
    from github import GithubException

    from lab.github.errors import CONFLICT, NOT_FOUND, UNPROCESSABLE, status_of
    from sandbox.fakes.github import FakeForbidden, FakeNotFound, FakeRefused

    assert status_of(GithubException(404, {"message": "Not Found"}, {})) == NOT_FOUND
    assert status_of(GithubException(409, {"message": "Cannot cancel"}, {})) == CONFLICT
    assert [status_of(e) for e in (FakeNotFound("x"), FakeForbidden("x"), FakeRefused("x"))] == [404, 403, UNPROCESSABLE]
    assert isinstance(FakeNotFound("x"), LookupError) and isinstance(FakeRefused("x"), ValueError)
    no_answer = OSError("connection refused")
    no_answer.status = 500  # type: ignore[attr-defined]  # a status on a foreign error is not GitHub's answer
    assert status_of(no_answer) is None and status_of(KeyError("status")) is None
