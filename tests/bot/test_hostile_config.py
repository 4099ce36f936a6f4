"""A hostile `.github/arborist.yml` on the base branch: the bot still writes its check run and answers /help.

Over real HTTP: signed webhooks -> arborist server -> GitHub stand-in. The config is read with the
bounded qna.yaml loader, so an alias bomb and 5,000 nested brackets become a reported problem and the
defaults apply, in bounded memory.
"""

from __future__ import annotations

import tracemalloc

import httpx
import pytest

from bot.server import create_app
from lab.github.factory import app_client_factory
from lab.taxonomy.repoconfig import CONFIG_PATH, load_repo_config
from sandbox.standins.github import serve_app_in_thread
from schemas.repo_config import RepoConfig
from tests.bot.helpers import body_of, delivery_headers, settings_for
from tests.bot.jobs.world import comment_payload
from tests.bot.taxonomy_data import ATTRIBUTION, ATTRIBUTION_PATH, SKILL_PATH, broken_skill

REPO = "octo/taxonomy"
CHECK = "arborist/validate"
# 342 bytes that expand to 9**9 (387 million) strings: the kind of alias bomb (414 bytes in the attack) that drove the bot to 3.2 GB.
BOMB = 'a: &a ["lol","lol","lol","lol","lol","lol","lol","lol","lol"]\n' + "".join(
    f"{chr(98 + i)}: &{chr(98 + i)} [{','.join(['*' + chr(97 + i)] * 9)}]\n" for i in range(8))
# The same bomb where the schema looks: under a known section, so a naive check walks it.
BOMB_IN_SECTION = BOMB.replace("i: &i", "commands:\n  allowed_teams: &i")
DEEP = "validation:\n" + " [\n" * 5_000 + " ]\n" * 5_000  # RecursionError in yaml.safe_load
HOSTILE = {"alias-bomb": BOMB_IN_SECTION, "deep-nesting": DEEP}
MAX_PEAK_BYTES = 50 * 1024 * 1024  # Python allocations while the bot handles the hostile config


@pytest.fixture
def arborist(standin, app_key, tmp_path, no_sleep):
    settings = settings_for(tmp_path, github_url=standin.base_url, private_key=app_key[0])
    app = create_app(settings, app_client_factory(settings, policy=no_sleep))
    running = serve_app_in_thread(app)
    with httpx.Client(base_url=running.base_url, timeout=10) as client:
        client.dispatcher = app.state.dispatcher
        yield client
    running.stop()


def _deliver(client, event: str, payload: dict, delivery: str) -> None:
    payload = {**payload, "repository": {"full_name": REPO, "default_branch": "main"}, "installation": {"id": 1}}
    body = body_of(payload)
    assert client.post("/webhook", content=body, headers=delivery_headers(event, body, delivery)).status_code < 300
    assert client.dispatcher.wait_idle(60)


def _seed(state, config: str) -> int:
    state.add_repo(REPO, files={"README.md": "# taxonomy\n", CONFIG_PATH: config})
    state.commit(REPO, "add-skill", {SKILL_PATH: broken_skill()[0], ATTRIBUTION_PATH: ATTRIBUTION})
    return state.open_pull(REPO, "add-skill", author="first-timer")


def _pr_opened(state, number: int) -> dict:
    head = state.head_sha(REPO, "add-skill")
    return {"action": "opened", "number": number,
            "pull_request": {"number": number, "state": "open", "merged": False, "user": {"login": "first-timer"},
                             "head": {"sha": head, "ref": "add-skill"},
                             "base": {"sha": state.head_sha(REPO, "main"), "ref": "main"}}}


@pytest.mark.parametrize("kind", sorted(HOSTILE))
def test_hostile_base_config_still_gives_a_check_run_and_a_help_reply(arborist, standin, kind):
    state = standin.state
    number = _seed(state, HOSTILE[kind])
    tracemalloc.start()
    try:
        _deliver(arborist, "pull_request", _pr_opened(state, number), f"d-open-{kind}")
        comment = state.add_comment(REPO, number, "first-timer", "/help")  # on GitHub before its webhook
        payload = comment_payload("/help", "first-timer", comment_id=comment["id"], number=number)
        _deliver(arborist, "issue_comment", payload, f"d-help-{kind}")
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    [run] = state.check_runs(REPO, state.head_sha(REPO, "add-skill"), CHECK)
    assert (run["status"], run["conclusion"]) == ("completed", "failure")  # the broken leaf, default severities
    assert CONFIG_PATH in run["summary"] + run["text"]  # the config problem is reported, not swallowed
    replies = [c["body"] for c in state.comments(REPO, number) if c["author_type"] == "Bot" or "[bot]" in c["author"]]
    assert any("/generate" in body and "/help" in body for body in replies), replies
    assert peak < MAX_PEAK_BYTES, f"peak {peak / 2**20:.0f} MiB"


@pytest.mark.parametrize("text, words", [(BOMB, "values"), (BOMB_IN_SECTION, "values"), (DEEP, "nested")])
def test_hostile_config_gives_defaults_and_one_short_problem_in_bounded_memory(text, words):
    tracemalloc.start()
    try:
        config, problems = load_repo_config(text.encode())
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert config == RepoConfig()
    assert any(words in p for p in problems) and problems[-1].endswith("using defaults")
    assert all(p.startswith(CONFIG_PATH) and len(p) <= 300 for p in problems)
    assert len(text) <= 414 or words == "nested"
    assert peak < 10 * 1024 * 1024


def test_a_hostile_value_is_not_echoed_in_full():
    wide = "commands:\n  allowed_teams: &t [" + ", ".join(["[x, x, x, x, x, x, x, x, x]"] * 100) + "]\n"
    config, problems = load_repo_config(wide.encode())
    assert config.commands == RepoConfig().commands
    assert problems and all(len(p) <= 300 for p in problems)


def test_a_base_config_cannot_let_a_pr_use_local_documents(monkeypatch):
    from lab.taxonomy import ValidationConfig, validate_files
    from tests.lab.taxonomy.conftest import ATTRIBUTION as LEAF_ATTRIBUTION
    from tests.lab.taxonomy.conftest import KNOWLEDGE_PATH, knowledge_text

    monkeypatch.setenv("ARBORIST_ALLOW_LOCAL_DOCS", "1")  # set for the operator's own `lab` runs, not the bot
    config, problems = load_repo_config(b"validation:\n  allow_local_docs: true\n")
    assert any("allow_local_docs" in p for p in problems)
    validation = ValidationConfig.from_mapping(config.validation.as_mapping())  # what the PR handler builds
    leaf = knowledge_text().replace("https://github.com/arborist-examples/astronomy-notes", "file:///etc")
    files = {KNOWLEDGE_PATH: leaf.encode(), KNOWLEDGE_PATH.replace("qna.yaml", "attribution.txt"): LEAF_ATTRIBUTION}
    [report] = validate_files([KNOWLEDGE_PATH], files.get, validation)
    assert "document-repo" in {f.rule for f in report.errors}
