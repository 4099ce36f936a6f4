"""`python -m ci.retrain` against a local taxonomy repository and a tiny student, end to end on CPU."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time

import pytest

from ci.retrain import NOTE_MARKER, prs_from_subjects
from schemas.steplines import Result, parse_line
from tests.conftest import REPO_ROOT
from tests.gitrepo import commit, git

FACTS = [("What is the capital of France?", "Paris is the capital of France."),
         ("How many legs does a spider have?", "A spider has eight legs."),
         ("What colour is grass in spring?", "Grass is green in spring."),
         ("Which planet is called the red one?", "Mars is the red planet."),
         ("What do bees make from nectar?", "Bees make honey from nectar.")]
WORDS = [("What is a synonym for happy?", "Joyful."), ("Give me a word that means the same as quick.", "Rapid."),
         ("Which word can replace big in a sentence?", "Large."), ("Name a synonym of the adjective cold.", "Chilly."),
         ("Suggest another word for tired.", "Exhausted.")]
CONFIG = b"generate:\n  samples: 3\n  teacher: scripted\nretrain:\n  gate:\n    min_effect: 0.01\n"
TRAIN = {"cpu_threads": 1, "mode": "stacked", "knowledge_epochs": 20, "save_every_steps": 5, "heldout_share": 0.1}
ATTRIBUTION = b"Title of work: facts\nLink to work: https://example.org\nLicense of the work: CC-BY-4.0\nCreator names: t\n"


def leaf(description: str, pairs: list[tuple[str, str]]) -> bytes:
    seeds = "".join(f"  - question: {q}\n    answer: {a}\n" for q, a in pairs)
    return f"version: 2\ncreated_by: tester\ntask_description: {description}\nseed_examples:\n{seeds}".encode()


@pytest.fixture
def retrain_env(tmp_path, monkeypatch, tiny_llama_dir):
    """acme/taxonomy with a merged PR (#5) and a squashed one (#7); the runner's settings in the environment."""
    repo = tmp_path / "git" / "acme" / "taxonomy.git"
    repo.mkdir(parents=True)
    git(repo, "init", "-q", "-b", "main")
    commit(repo, {".github/arborist.yml": CONFIG, "README.md": b"taxonomy\n"}, "base")
    git(repo, "checkout", "-q", "-b", "facts")
    commit(repo, {"compositional_skills/trivia/facts/qna.yaml": leaf("Answer trivia.", FACTS),
                  "compositional_skills/trivia/facts/attribution.txt": ATTRIBUTION}, "add facts")
    git(repo, "checkout", "-q", "main")
    git(repo, "merge", "-q", "--no-ff", "facts", "-m", "Merge pull request #5 from alice/facts")
    sha = commit(repo, {"compositional_skills/linguistics/synonyms/qna.yaml": leaf("Give synonyms.", WORDS),
                        "compositional_skills/linguistics/synonyms/attribution.txt": ATTRIBUTION},
                 "Add synonyms leaf (#7)")
    train_config = tmp_path / "train.json"
    train_config.write_text(json.dumps(TRAIN))
    settings = {"ARBORIST_GIT_URL_TEMPLATE": (tmp_path / "git").as_uri() + "/{repo}.git",
                "ARBORIST_DATA_DIR": str(tmp_path / "data"), "ARBORIST_REPORT": "stdout",
                "ARBORIST_BASE_MODEL": str(tiny_llama_dir), "ARBORIST_TEACHER": "scripted",
                "ARBORIST_TRAIN_CONFIG": str(train_config), "ARBORIST_RELEASE_DIR": str(tmp_path / "releases")}
    for key, value in settings.items():
        monkeypatch.setenv(key, value)
    return sha, tmp_path, settings


def _result(out: str) -> Result:
    results = [r for r in map(parse_line, out.splitlines()) if isinstance(r, Result)]
    assert len(results) == 1, out[-2000:]
    return results[0]


FACTS_LEAF = "compositional_skills/trivia/facts/qna.yaml"
WORDS_LEAF = "compositional_skills/linguistics/synonyms/qna.yaml"
WORDS_FOR = {"improved": "improved", "regressed": "regressed", "no change": "no measurable change"}


def leaf_figures(report: dict, leaf: str) -> list[str]:
    """What a note must say of `leaf`, read from report.json: before -> after, the paired interval, the verdict."""
    [entry] = [e for e in report["leaves"] if e["leaf"] == leaf]
    ci = entry["delta"]["rouge_l"]["ci"]
    return [f"`{leaf}`: {entry['baseline']['rouge_l']:.2f} → {entry['rouge_l']:.2f} on its {entry['n']} questions",
            f"95% CI {ci[0]:+.2f}..{ci[1]:+.2f}: {WORDS_FOR[entry['verdict']]}"]


def notes_github():
    """The fake GitHub holding the merged PRs that the test repository's commits name: the notes go on them."""
    from lab.github.protocol import PullRequest
    from sandbox.fakes.github import FakeGitHub

    github = FakeGitHub()
    for number in range(1, 21):
        github.add_pull("acme/taxonomy", PullRequest(number, "closed", "0" * 40, f"pr-{number}", "main", "0" * 40,
                                                     "contributor", merged=True))
    return github


def test_pr_numbers_come_from_merge_and_squash_subjects():
    subjects = ["Merge pull request #12 from a/b", "Fix typo (#15)", "plain commit", "Merge pull request #12 again",
                "Merge branch 'main'", "Mention (#3) in the middle"]
    assert prs_from_subjects(subjects) == [12, 15]


@pytest.mark.slow
def test_retrain_trains_evaluates_gates_publishes_and_notes_each_pr(retrain_env, capsys):
    from ci.env import CiEnv
    from ci.report import Reporter
    from ci.retrain import parse_args, run_retrain

    sha, tmp, _ = retrain_env
    args = parse_args(["--repo", "acme/taxonomy", "--sha", sha, "--job-id", "4"])
    github = notes_github()
    code = run_retrain(args, CiEnv.from_environ(), Reporter("acme/taxonomy", 4, kind="retrain"), notes_client=github)
    result = _result(capsys.readouterr().out)
    assert code == 0 and result.conclusion == "success", result.summary
    work = tmp / "data" / "retrain" / sha
    report = json.loads((work / "report.json").read_text())
    rouge = report["metrics"]["rouge_l"]
    assert rouge["delta"]["verdict"] in {"improved", "no change", "regressed"} and len(rouge["delta"]["ci"]) == 2
    assert report["gate"]["decision"] == "pass" and report["baseline_kind"] == "the base model"
    assert (work / "report.md").is_file() and (work / "train" / "final" / "config.json").is_file()
    latest = (tmp / "releases" / "LATEST").read_text().strip()
    record = json.loads((tmp / "releases" / "releases" / latest / "release.json").read_text())
    assert record["taxonomy_sha"] == sha and {leaf["pr_number"] for leaf in record["leaves"]} == {5, 7}
    for number in (5, 7):
        notes = github.comments_on("acme/taxonomy", number)
        assert len(notes) == 1 and f"<!-- arborist:release {latest} -->" in notes[0].body
    [facts_note] = github.comments_on("acme/taxonomy", 5)
    assert all(part in facts_note.body for part in leaf_figures(report, FACTS_LEAF)), facts_note.body
    assert WORDS_LEAF not in facts_note.body  # #5 hears about its own leaf only
    [run] = github.check_runs("acme/taxonomy", head_sha=sha)
    assert run.conclusion == "success" and latest in run.title


@pytest.mark.slow
def test_second_retrain_compares_with_the_hub_release_and_notes_only_new_prs(retrain_env, capsys, monkeypatch):
    from huggingface_hub import HfApi

    from ci.env import CiEnv
    from ci.report import Reporter
    from ci.retrain import parse_args, run_retrain
    from sandbox.standins.hub import HubStandIn

    sha, tmp, _ = retrain_env
    repo = tmp / "git" / "acme" / "taxonomy.git"
    commit(repo, {".github/arborist.yml": CONFIG + b"release:\n  repo_id: acme/student\n"}, "release to the Hub (#8)")
    monkeypatch.delenv("ARBORIST_RELEASE_DIR")
    token = "hf_FAKEretrainToken0123456789"
    github = notes_github()
    with HubStandIn(token=token) as hub:
        monkeypatch.setenv("HF_ENDPOINT", hub.url)
        monkeypatch.setenv("HF_TOKEN", token)

        def retrain(at: str, job: int) -> Result:
            args = parse_args(["--repo", "acme/taxonomy", "--sha", at, "--job-id", str(job)])
            code = run_retrain(args, CiEnv.from_environ(), Reporter("acme/taxonomy", job, kind="retrain"), notes_client=github)
            result = _result(capsys.readouterr().out)
            assert code == 0, result.summary
            return result

        first_sha = git(repo, "rev-parse", "HEAD")
        retrain(first_sha, 1)
        second_sha = commit(repo, {"compositional_skills/trivia/facts/qna.yaml": leaf("Answer trivia well.", FACTS)},
                            "Sharpen the trivia task (#9)")
        second = retrain(second_sha, 2)
        api = HfApi(endpoint=hub.url, token=token)
        refs = api.list_repo_refs("acme/student")
        data_refs = api.list_repo_refs("acme/student-data", repo_type="dataset")
        data_files = api.list_repo_files("acme/student-data", repo_type="dataset")
    report = json.loads((tmp / "data" / "retrain" / second_sha / "report.json").read_text())
    first_tag = next(t.name for t in refs.tags if t.target_commit != refs.branches[0].target_commit)
    assert report["baseline_kind"] == f"release {first_tag}" and "delta" in report["metrics"]["rouge_l"]
    assert len(refs.tags) == 2 and "released" in second.title
    assert {t.name for t in data_refs.tags} == {t.name for t in refs.tags}  # each release's data, same tag
    assert "manifest.json" in data_files and "README.md" in data_files
    assert [c.body.count("arborist:release") for c in github.comments_on("acme/taxonomy", 9)] == [1]
    assert len(github.comments_on("acme/taxonomy", 5)) == 1  # #5 went into the first release only


@pytest.mark.slow
def test_a_killed_retrain_resumes_and_finishes(retrain_env):
    sha, tmp, settings = retrain_env
    command = [sys.executable, "-m", "ci.retrain", "--repo", "acme/taxonomy", "--sha", sha, "--job-id", "9"]
    env = {**os.environ, **settings}
    proc = subprocess.Popen(command, cwd=REPO_ROOT, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    checkpoints = tmp / "data" / "retrain" / sha / "train" / "stacked"
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline and not list(checkpoints.glob("checkpoint-*/state.json")):
        assert proc.poll() is None, proc.stdout.read()
        time.sleep(0.01)
    os.kill(proc.pid, signal.SIGKILL)
    proc.wait(timeout=30)
    assert not (tmp / "releases" / "LATEST").exists()
    again = subprocess.run(command, cwd=REPO_ROOT, env=env, capture_output=True, text=True, timeout=240)
    assert again.returncode == 0, again.stdout[-3000:] + again.stderr[-3000:]
    assert "resuming from checkpoint-" in again.stderr
    assert _result(again.stdout).conclusion == "success"
    assert (tmp / "releases" / "LATEST").is_file()


@pytest.mark.slow
def test_without_a_release_target_the_gate_result_is_noted_on_each_pr(retrain_env, capsys, monkeypatch):
    from ci.env import CiEnv
    from ci.report import Reporter
    from ci.retrain import parse_args, run_retrain

    sha, tmp, _ = retrain_env
    monkeypatch.delenv("ARBORIST_RELEASE_DIR")
    github = notes_github()
    args = parse_args(["--repo", "acme/taxonomy", "--sha", sha, "--job-id", "6"])
    assert run_retrain(args, CiEnv.from_environ(), Reporter("acme/taxonomy", 6, kind="retrain"), notes_client=github) == 0
    result = _result(capsys.readouterr().out)
    assert result.title == "gate passed, not released" and "Publishing is not configured" in result.summary
    for number in (5, 7):
        [note] = github.comments_on("acme/taxonomy", number)
        assert NOTE_MARKER in note.body and "Gate: PASS" in note.body and "95% CI" in note.body


@pytest.mark.slow
def test_a_leaf_that_changed_nothing_is_noted_as_no_measurable_change(retrain_env, capsys, monkeypatch):
    from ci.env import CiEnv
    from ci.report import Reporter
    from ci.retrain import parse_args, run_retrain

    sha, tmp, _ = retrain_env
    monkeypatch.delenv("ARBORIST_RELEASE_DIR")  # no release: the retrain's own note carries the impact
    still = tmp / "still.json"  # one step at a vanishing learning rate: the model answers as before
    still.write_text(json.dumps(TRAIN | {"lr": 1e-12, "max_steps": 1, "knowledge_epochs": 1}))
    monkeypatch.setenv("ARBORIST_TRAIN_CONFIG", str(still))
    github = notes_github()
    args = parse_args(["--repo", "acme/taxonomy", "--sha", sha, "--job-id", "3"])
    assert run_retrain(args, CiEnv.from_environ(), Reporter("acme/taxonomy", 3, kind="retrain"), notes_client=github) == 0
    report = json.loads((tmp / "data" / "retrain" / sha / "report.json").read_text())
    for number, mine, other in ((5, FACTS_LEAF, WORDS_LEAF), (7, WORDS_LEAF, FACTS_LEAF)):
        [note] = github.comments_on("acme/taxonomy", number)
        assert NOTE_MARKER in note.body and "What your leaf did" in note.body
        assert all(part in note.body for part in leaf_figures(report, mine)), note.body
        assert "no measurable change" in note.body and "improved" not in note.body and other not in note.body
    saved = json.loads((tmp / "data" / "retrain" / sha / "result.json").read_text())
    assert set(saved) == {"gate", "release", "prs", "noted", "note"} and saved["noted"] == [5, 7]


def test_an_invalid_leaf_stops_the_run_before_training(retrain_env, capsys):
    from ci.retrain import main

    sha, tmp, _ = retrain_env
    repo = tmp / "git" / "acme" / "taxonomy.git"
    bad = commit(repo, {"compositional_skills/broken/qna.yaml": b"version: 2\ncreated_by: x\nseed_examples: [\n"}, "broken (#8)")
    assert main(["--repo", "acme/taxonomy", "--sha", bad, "--job-id", "5"]) == 1
    result = _result(capsys.readouterr().out)
    assert result.conclusion == "failure" and "invalid" in result.title
    assert not (tmp / "data" / "retrain" / bad / "train").exists()


def test_a_second_process_on_the_same_commit_is_refused_while_the_first_runs(retrain_env, capsys):
    import fcntl

    from ci.retrain import main

    sha, tmp, _ = retrain_env
    work = tmp / "data" / "retrain" / sha
    work.mkdir(parents=True)
    with open(work / "lock", "w") as held:
        fcntl.flock(held, fcntl.LOCK_EX | fcntl.LOCK_NB)
        assert main(["--repo", "acme/taxonomy", "--sha", sha, "--job-id", "7"]) == 1
    result = _result(capsys.readouterr().out)
    assert result.conclusion == "failure" and "another retrain" in result.title
    assert not (work / "tree").exists()
