"""After a release, every merged PR included hears about it once, and the release commit gets a check run."""

from __future__ import annotations

import json
from dataclasses import asdict

import pytest

from ci.announce import CHECK_NAME, announce_release, main, public_url
from lab.github.protocol import PullRequest
from lab.publish import HubTarget, LeafChange, ReleaseInfo, ReleaseResult, publish_release
from sandbox.fakes.github import FakeGitHub
from sandbox.standins.hub import HubStandIn

REPO = "acme/taxonomy"
SHA = "9" * 40
HF_TOKEN = "hf_FAKEannounceToken5555555"


def _info() -> ReleaseInfo:
    return ReleaseInfo(taxonomy_repo=REPO, taxonomy_sha=SHA, leaves=[
        LeafChange("knowledge/a/qna.yaml", "added", 41, f"https://github.com/{REPO}/pull/41"),
        LeafChange("knowledge/b/qna.yaml", "modified", 41, f"https://github.com/{REPO}/pull/41"),
        LeafChange("compositional_skills/c/qna.yaml", "added", 57, f"https://github.com/{REPO}/pull/57"),
        LeafChange("knowledge/d/qna.yaml", "removed", None, ""),
    ])


def merged_prs(github: FakeGitHub) -> FakeGitHub:
    """The merged PRs the release names exist on GitHub: the announcements go on them."""
    for number in (41, 57):
        github.add_pull(REPO, PullRequest(number, "closed", "0" * 40, f"pr-{number}", "main", "0" * 40, "contributor",
                                          merged=True))
    return github


def test_release_on_the_hub_is_announced_on_each_merged_pr_and_the_commit(tiny_llama_dir, monkeypatch):
    from huggingface_hub import HfApi

    monkeypatch.setenv("HF_TOKEN", HF_TOKEN)
    github = merged_prs(FakeGitHub())
    with HubStandIn(token=HF_TOKEN) as hub:
        result = publish_release(tiny_llama_dir, HubTarget("acme/model", HfApi(endpoint=hub.url, token=HF_TOKEN)),
                                 _info())
        assert result.tag in hub.state.repos["acme/model"].tags
    report = announce_release(github, REPO, _info(), result)
    assert sorted(report.commented) == [41, 57] and not report.failed
    [comment] = github.comments_on(REPO, 41)
    assert f"[{result.tag}]({result.url})" in comment.body
    assert "`knowledge/a/qna.yaml`" in comment.body and "`knowledge/b/qna.yaml`" in comment.body
    assert "compositional_skills" not in comment.body
    [run] = github.check_runs(REPO, name=CHECK_NAME, head_sha=SHA)
    assert run.status == "completed" and run.conclusion == "success" and result.tag in run.title
    assert all(HF_TOKEN not in c.body for n in (41, 57) for c in github.comments_on(REPO, n))

    again = announce_release(github, REPO, _info(), result)  # a re-run (e.g. a retried job)
    assert again.commented == [] and sorted(again.already_commented) == [41, 57]
    assert len(github.comments_on(REPO, 41)) == 1


def test_one_unreachable_pr_does_not_stop_the_others():
    class Flaky(FakeGitHub):
        def list_comments(self, repo, number):
            if number == 41:
                raise ConnectionError("GitHub answered 502")
            return super().list_comments(repo, number)

    github = merged_prs(Flaky())
    result = ReleaseResult("v2026.11.25-9999999", "https://hub.test/acme/model/tree/v2026.11.25-9999999",
                           "f" * 40, skipped=False)
    report = announce_release(github, REPO, _info(), result)
    assert report.commented == [57] and "502" in report.failed[41]
    assert report.check_run_id is not None


def test_a_skipped_release_adds_no_second_check_run():
    github = merged_prs(FakeGitHub())
    result = ReleaseResult("v1", "https://hub.test/acme/model/tree/v1", "f" * 40, skipped=True)
    report = announce_release(github, REPO, _info(), result)
    assert report.check_run_id is None and github.check_runs(REPO) == []


def test_credentials_in_a_mirror_url_never_reach_a_comment():
    assert public_url("https://bot:s3cret@hub.internal:8443/acme/m/tree/v1") == "https://hub.internal:8443/acme/m/tree/v1"
    github = merged_prs(FakeGitHub())
    result = ReleaseResult("v1", "https://bot:s3cret@hub.internal/acme/m/tree/v1", "f" * 40, skipped=False)
    announce_release(github, REPO, _info(), result)
    assert all("s3cret" not in c.body for c in github.comments_on(REPO, 41))
    assert "s3cret" not in github.check_runs(REPO)[0].summary


def test_command_line_reads_info_and_result_files(tmp_path, capsys):
    github = merged_prs(FakeGitHub())
    info = asdict(_info())
    info.pop("date")
    (tmp_path / "info.json").write_text(json.dumps(info, default=str))
    result = ReleaseResult("v1", "https://hub.test/acme/m/tree/v1", "f" * 40, skipped=False)
    (tmp_path / "result.json").write_text(json.dumps(result.to_dict()))
    code = main(["--repo", REPO, "--info", str(tmp_path / "info.json"), "--result", str(tmp_path / "result.json")],
                client=github)
    assert code == 0
    assert sorted(json.loads(capsys.readouterr().out)["commented"]) == [41, 57]
    assert main(["--repo", REPO, "--info", str(tmp_path / "missing.json"), "--result", "x"], client=github) == 2


@pytest.mark.parametrize("leaves, expected", [([], {}), ([LeafChange("a", "added", 3)], {3: ["a"]})])
def test_prs_are_grouped_from_the_release_leaves(leaves, expected):
    from ci.announce import prs_of

    assert prs_of(ReleaseInfo(taxonomy_repo=REPO, taxonomy_sha=SHA, leaves=leaves)) == expected
