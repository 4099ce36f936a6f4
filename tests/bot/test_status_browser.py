"""The /status page in a real headless Chromium against the bot on loopback: it loads, shows a queued job,
then, without a reload by the test, that job's progress (the page refreshes itself).

Chromium is driven over the DevTools protocol (a websocket), so the test reads what the browser rendered,
after the browser ran the page's script — not the HTML the server sent.
"""

from __future__ import annotations

import contextlib
import itertools
import json
import shutil
import socket
import subprocess
import threading
import time
import urllib.request
from pathlib import Path

import pytest
import uvicorn

from bot.jobs.service import JobService
from bot.jobs.settings import JobSettings
from bot.jobs.store import JobStore
from bot.server import create_app
from sandbox.fakes.github import FakeGitHub
from tests.bot.helpers import settings_for

CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")
pytestmark = pytest.mark.skipif(CHROMIUM is None, reason="Debian's chromium is not installed (apt install chromium)")
REPO = "community/taxonomy"
WAIT_S = 60.0


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture
def bot(tmp_path):
    """The bot's app on a real loopback port (uvicorn in a thread), with a job store."""
    store = JobStore(tmp_path / "data" / "jobs.sqlite3")
    jobs = JobService(store, JobSettings(data_dir=tmp_path / "data"))
    app = create_app(settings_for(tmp_path, status_repos=REPO), lambda installation: FakeGitHub(), jobs=jobs)
    port = _free_port()
    server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning"))
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + WAIT_S
    while not server.started and time.monotonic() < deadline:
        time.sleep(0.05)
    yield f"http://127.0.0.1:{port}", store
    server.should_exit = True
    thread.join(timeout=20)


class Browser:
    """One headless Chromium and one page, spoken to over the DevTools protocol."""

    def __init__(self, profile: Path):
        self.proc = subprocess.Popen([CHROMIUM, "--headless", "--no-sandbox", "--disable-gpu", "--no-first-run",
                                      "--remote-debugging-port=0", f"--user-data-dir={profile}", "about:blank"],
                                     stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True)
        port_file = profile / "DevToolsActivePort"
        deadline = time.monotonic() + WAIT_S
        while not (port_file.exists() and port_file.read_text().strip()) and time.monotonic() < deadline:
            time.sleep(0.1)
        port = int(port_file.read_text().split()[0])
        with urllib.request.urlopen(f"http://127.0.0.1:{port}/json/list", timeout=10) as answer:
            page = next(t for t in json.load(answer) if t["type"] == "page")
        from websockets.sync.client import connect
        self.exits = contextlib.ExitStack()
        self.ws = self.exits.enter_context(connect(page["webSocketDebuggerUrl"], max_size=None, open_timeout=30))
        self.ids = itertools.count(1)

    def call(self, method: str, **params) -> dict:
        call_id = next(self.ids)
        self.ws.send(json.dumps({"id": call_id, "method": method, "params": params}))
        while True:
            message = json.loads(self.ws.recv(timeout=WAIT_S))
            if message.get("id") == call_id:
                return message.get("result", {})

    def text(self) -> str:
        result = self.call("Runtime.evaluate", expression="document.body ? document.body.innerText : ''")
        return str(result.get("result", {}).get("value", ""))

    def wait_for(self, *needles: str) -> str:
        deadline, text = time.monotonic() + WAIT_S, ""
        while time.monotonic() < deadline:
            text = self.text()
            if all(needle in text for needle in needles):
                return text
            time.sleep(0.25)
        raise AssertionError(f"the page never showed {needles!r}; it showed:\n{text}")

    def close(self) -> None:
        self.exits.close()
        self.proc.terminate()
        try:
            self.proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            self.proc.kill()


def test_the_page_shows_a_queued_job_then_its_progress_without_a_reload(bot, tmp_path):
    url, store = bot
    job, _ = store.enqueue("generate", REPO, "a" * 40, pr=42, requested_by="maintainer-1")
    browser = Browser(tmp_path / "chromium-profile")
    try:
        browser.call("Page.enable")
        browser.call("Page.navigate", url=f"{url}/status")
        first = browser.wait_for("Queue (1)", "Running (0)", "generate", f"{REPO} #42", "maintainer-1")
        assert "generating: leaf 1 of 3" not in first
        claimed = store.claim("host:9:browser", lease_s=60)
        assert claimed is not None and claimed.id == job.id
        store.set_progress(job.id, "host:9:browser", "generating: leaf 1 of 3", 1 / 3)
        later = browser.wait_for("Queue (0)", "Running (1)", "generating: leaf 1 of 3", "33%")
        assert "host:9:browser" in later
        navigations = browser.call("Page.getNavigationHistory")
        assert len(navigations["entries"]) == 2  # about:blank, then /status once: the script refreshed it
    finally:
        browser.close()
