"""On real contribution PRs, the bot's annotations are exactly `lab validate`'s findings on the same files."""

from __future__ import annotations

import json
import shutil
from contextlib import redirect_stdout
from io import StringIO

import pytest

from bot.context import Context, Event
from bot.handlers.pull_request import on_pull_request, taxonomy_paths
from bot.render.validation import CHECK_NAME
from lab.cli import main as lab_main
from lab.github.protocol import PullFile, PullRequest
from sandbox.fakes.github import FakeGitHub

REPO = "instructlab/taxonomy"
STATUS = {"A": "added", "M": "modified", "D": "removed"}
SAMPLE = 30  # PRs, spread over the corpus (every Nth), enough to cover YAML errors, names and versions


def _sample(root) -> list[dict]:
    prs = [p for p in json.loads((root / "manifest.json").read_text())["prs"]
           if any("stored_as" in f for f in p["files"])]
    step = max(1, len(prs) // SAMPLE)
    return prs[::step][:SAMPLE]


@pytest.mark.corpus
@pytest.mark.slow
def test_bot_annotations_match_lab_validate_on_real_prs(shared_fixtures, tmp_path, _taxonomy):
    from lab.taxonomy import paths as lab_paths

    root = shared_fixtures / "taxonomy-prs"
    compared = 0
    for pr in _sample(root):
        head = pr["head_sha"]
        gh = FakeGitHub()
        work = tmp_path / f"pr-{pr['pr']}"
        stored = {f["path"]: root / f["stored_as"] for f in pr["files"] if "stored_as" in f}
        for path, source in stored.items():
            (work / path).parent.mkdir(parents=True, exist_ok=True)
            shutil.copyfile(source, work / path)
            gh.put_files(REPO, head, {path: source.read_bytes()})
        files = [PullFile(f["path"], STATUS.get(f["status"], "modified")) for f in pr["files"]]
        gh.add_pull(REPO, PullRequest(pr["pr"], "open", head, "x", "main", pr["merge_base"], "someone"), files)
        payload = {"action": "opened", "number": pr["pr"], "installation": {"id": 1},
                   "repository": {"full_name": REPO}}
        on_pull_request(Event.from_delivery("pull_request", f"d{pr['pr']}", payload), Context(github=gh))
        [run] = gh.check_runs(REPO, CHECK_NAME, head)
        bot_view = sorted((a.path, a.start_line, a.title) for a in run.annotations)

        targets = taxonomy_paths([(f.filename, f.status) for f in files], lab_paths.is_taxonomy_file)
        if not targets:
            assert bot_view == [] and run.conclusion == "success"
            continue
        out = StringIO()
        with redirect_stdout(out), pytest.MonkeyPatch.context() as mp:
            mp.chdir(work)
            code = lab_main(["validate", "--format", "json", *targets])
        report = json.loads(out.getvalue())
        lab_view = sorted((f["path"], max(f["line"], 1), f"{f['rule']} ({f['severity']})")
                          for file in report["files"] for f in file["findings"])
        assert bot_view == lab_view, f"PR {pr['pr']}"
        assert (run.conclusion == "failure") == (code != 0), f"PR {pr['pr']}"
        compared += 1
    assert compared >= SAMPLE // 2
