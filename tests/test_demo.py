"""`arborist demo`: its plumbing (timeline, artefacts, git repo, processes) and the whole story."""

from __future__ import annotations

import io
import json
import os
import subprocess
import sys
import time
from pathlib import Path

import pytest

from sandbox.demo import leaves
from sandbox.demo.artefacts import Artefacts
from sandbox.demo.procs import Processes, free_port, wait_for_port
from sandbox.demo.repo import TaxonomyRepo
from sandbox.demo.timeline import StepFailed, Timeline

REPO_ROOT = Path(__file__).resolve().parent.parent


def test_failing_step_is_named_and_timeline_records_it():
    out = io.StringIO()
    timeline = Timeline(stream=out)
    with timeline.step("seed the taxonomy"):
        timeline.note("3 leaves")
    with pytest.raises(StepFailed) as err, timeline.step("open the PR"):
        raise ValueError("no such repository")
    assert err.value.step == "open the PR"
    assert "no such repository" in err.value.reason
    text = out.getvalue()
    assert "✓ seed the taxonomy" in text and "✗ open the PR: ValueError: no such repository" in text
    assert [s["ok"] for s in timeline.as_dicts()] == [True, False]
    assert timeline.as_dicts()[0]["notes"] == ["3 leaves"]


def test_artefacts_keep_each_comment_version_and_index_them(tmp_path):
    artefacts = Artefacts(tmp_path / "out")
    artefacts.comment("summary", {"id": 7, "author": "bot", "body": "2 problems"})
    artefacts.comment("summary", {"id": 7, "author": "bot", "body": "all good"}, edited=True)
    artefacts.check_run("validate", {"id": 1, "status": "completed", "conclusion": "failure",
                                     "output": {"annotations": [{"path": "a"}]}})
    summary = json.loads(artefacts.write_summary([], ok=True).read_text())
    files = sorted(p.name for p in (tmp_path / "out").iterdir())
    assert files[0].startswith("01-comment-summary") and files[1].startswith("02-comment-summary")
    assert "all good" in (tmp_path / "out" / files[1]).read_text()
    assert [a["kind"] for a in summary["artefacts"]] == ["comment", "comment", "check_run"]
    assert summary["artefacts"][2]["annotations"] == 1


def test_taxonomy_repo_commits_branches_and_merges(tmp_path):
    repo = TaxonomyRepo(tmp_path)
    base = repo.create(leaves.base_tree(None))
    repo.branch("add-tree-care")
    repo.write({leaves.PR_LEAF_PATH: leaves.pr_leaf(broken=True)})
    broken = repo.commit_and_push("add-tree-care", "Add tree care", author=leaves.CONTRIBUTOR)
    repo.write({leaves.PR_LEAF_PATH: leaves.pr_leaf(broken=False)})
    fixed = repo.commit_and_push("add-tree-care", "Fix a key", author=leaves.CONTRIBUTOR)
    assert repo.read(leaves.PR_LEAF_PATH, broken) == leaves.pr_leaf(broken=True)
    assert repo.read(leaves.PR_LEAF_PATH, base) is None
    assert repo.changed_files(base, fixed) == [("A", leaves.PR_LEAF_PATH)]
    merged = repo.merge("add-tree-care", "Merge tree care")
    clone = subprocess.run(["git", "ls-tree", "-r", "--name-only", merged], cwd=repo.remote,
                           capture_output=True, text=True, check=True).stdout
    assert leaves.PR_LEAF_PATH in clone


def test_closing_processes_stops_the_child_and_its_children(tmp_path):
    port = free_port()
    procs = Processes(tmp_path / "logs")
    code = ("import http.server, subprocess, sys; subprocess.Popen([sys.executable, '-c', "
            "'import time; time.sleep(60)']); "
            f"http.server.HTTPServer(('127.0.0.1', {port}), http.server.BaseHTTPRequestHandler).serve_forever()")
    child = procs.start("server", [sys.executable, "-c", code], env=dict(os.environ))
    wait_for_port(port, timeout_s=20, alive=child.alive)
    pgid = child.proc.pid
    procs.close()
    assert child.proc.poll() is not None
    time.sleep(0.3)
    assert _live_members(pgid) == []  # the grandchild went too (zombies are dead, only unreaped)


def _live_members(pgid: int) -> list[int]:
    """Pids of processes in a process group that are not zombies (Linux /proc)."""
    live = []
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        if int(fields[2]) == pgid and fields[0] != "Z":
            live.append(int(stat.parent.name))
    return live


def _run_demo(out: Path, *extra: str, timeout: float = 300) -> subprocess.CompletedProcess:
    env = {**os.environ, "PYTHONPATH": str(REPO_ROOT)}
    return subprocess.run([sys.executable, "-m", "bot.cli", "demo", "--out", str(out), *extra],
                          cwd=REPO_ROOT, env=env, capture_output=True, text=True, timeout=timeout)


def test_demo_out_of_time_exits_nonzero_naming_the_step(tmp_path):
    result = _run_demo(tmp_path / "out", "--fast", "--timeout", "0.5", timeout=120)
    assert result.returncode == 1
    assert "arborist demo failed at step" in result.stderr
    summary = json.loads((tmp_path / "out" / "summary.json").read_text())
    assert summary["ok"] is False
    assert summary["failed_step"] in result.stderr
    assert "ran out of time" in result.stdout + result.stderr


@pytest.mark.slow
@pytest.mark.timeout(420)  # ~70 CPU-s; 285 s measured at load 20 on the shared 2 cores
def test_demo_plays_the_whole_story_from_broken_pr_to_answer(tmp_path):
    out = tmp_path / "out"
    started = time.monotonic()
    result = _run_demo(out, "--fast", "--timeout", "360", timeout=390)  # the demo's own deadline comes first
    elapsed = time.monotonic() - started
    assert result.returncode == 0, f"demo failed:\n{result.stdout[-4000:]}\n{result.stderr[-4000:]}"
    assert elapsed < 390
    summary = json.loads((out / "summary.json").read_text())
    assert summary["ok"] and all(step["ok"] for step in summary["timeline"])
    items = summary["artefacts"]

    checks = [a for a in items if a["kind"] == "check_run"]
    assert [c["conclusion"] for c in checks] == ["failure", "success"]
    assert checks[0]["annotations"] >= 1
    failed_check = json.loads((out / checks[0]["file"]).read_text())
    assert any("`answer`" in a["message"] for a in failed_check["output"]["annotations"])

    comments = [a for a in items if a["kind"] == "comment"]
    summary_versions = [c for c in comments if c["step"].startswith("summary")]
    assert len(summary_versions) == 2 and summary_versions[0]["id"] == summary_versions[1]["id"]
    assert summary_versions[1]["edited"] and summary_versions[0]["body"] != summary_versions[1]["body"]

    refusal = next(c for c in comments if c["step"].startswith("refusal"))
    assert "/generate" in refusal["body"]

    statuses = [c for c in comments if c["step"] == "generate status"]
    assert len({c["body"] for c in statuses}) >= 2  # the status comment moved through states
    assert len({c["id"] for c in statuses}) == 1  # ...by editing one comment
    assert leaves.PR_LEAF_PATH.rsplit("/", 1)[0] in statuses[-1]["body"]
    assert "sample" in statuses[-1]["body"].lower()  # the samples are shown on the PR

    precheck = [c for c in comments if c["step"] == "precheck status"][-1]["body"]  # the reviewer's two commands
    assert "`/precheck` job #" in precheck and "**Verdict:** the model" in precheck
    assert summary["facts"]["precheck"].endswith("of 15 seed questions already answered well")
    preview = [c for c in comments if c["step"] == "preview status"][-1]["body"]
    assert "`/preview` job #" in preview and "| ″ | held-out questions |" in preview and "95% CI" in preview
    assert "**General retention**" in preview and "--adapter ADAPTER_FOLDER" in preview
    report = json.loads((out / next(a["file"] for a in items if a.get("name") == "preview-report")).read_text())
    assert [s["source"] for s in report["leaves"][0]["sets"]] == ["seed", "held-out"]
    assert summary["facts"]["answer_preview"].strip() and "--adapter" in result.stdout  # lab chat loaded the adapter
    assert summary["facts"]["answer"].strip()
    assert all(line.strip() in result.stdout for line in summary["facts"]["answer"].splitlines())
    assert summary["facts"]["answer_gguf"].strip()  # the GGUF file of the release answers through llama.cpp
    assert any(c["step"].startswith("release note") for c in comments)
    release = json.loads((out / next(a["file"] for a in items if a.get("name") == "hub-release")).read_text())
    assert any(name.endswith(".safetensors") for name in release["files"])
    assert any(name.endswith(".gguf") for name in release["files"])
    repos = {r["role"]: r for r in release["repos"]}  # the release is three repositories, each tagged
    assert set(repos) == {"model", "gguf", "data"}
    assert [r["repo"] for r in release["repos"]] == [leaves.HUB_REPO, f"{leaves.HUB_REPO}-GGUF", f"{leaves.HUB_REPO}-data"]
    assert any(f.endswith("-Q4_K_M.gguf") for f in repos["gguf"]["files"]) and "README.md" in repos["data"]["files"]
    assert {item["id"] for item in release["collection"]["items"]} == {r["repo"] for r in release["repos"]}
    assert f"collection \"{release['collection']['title']}\"" in result.stdout
    assert "--quant Q4_K_M --verify" in result.stdout  # the consumer pulled a quant and checked its signature
    note = next(c for c in comments if c["step"].startswith("release note"))
    assert release["tag"] in note["body"]
    assert f"`{leaves.PR_LEAF_PATH}`: " in note["body"] and "95% CI" in note["body"]  # what the leaf did, measured
    assert "the contributor's leaf: " in result.stdout
    retrain = json.loads((out / next(a["file"] for a in items if a.get("name") == "retrain-job")).read_text())
    assert retrain["state"] == "succeeded"


@pytest.mark.slow
def test_interrupted_demo_stops_the_bot_and_the_worker(tmp_path):
    out = tmp_path / "out"
    env = {**os.environ, "PYTHONPATH": str(REPO_ROOT)}
    demo = subprocess.Popen([sys.executable, "-m", "bot.cli", "demo", "--fast", "--out", str(out)], cwd=REPO_ROOT,
                            env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    services = out / "services.json"
    deadline = time.monotonic() + 120
    while not services.exists() and demo.poll() is None and time.monotonic() < deadline:
        time.sleep(0.2)
    assert services.exists(), "the demo never started its services"
    pids = json.loads(services.read_text())["pids"]
    demo.send_signal(2)  # Ctrl-C
    output, _ = demo.communicate(timeout=60)
    assert demo.returncode != 0
    assert "interrupted" in output
    time.sleep(0.5)
    for name, pid in pids.items():
        assert _live_members(pid) == [], f"the {name} (pid {pid}) outlived the demo"


def test_story_leaves_fail_once_at_the_misspelt_key_and_then_pass():
    from lab.taxonomy.validate import validate_files

    files = dict(leaves.base_tree(REPO_ROOT))
    files[leaves.PR_ATTRIBUTION_PATH] = leaves.PR_ATTRIBUTION
    qna = sorted(p for p in files if p.endswith("qna.yaml"))
    assert all(not r.findings for r in validate_files(qna, files.get)), "the base tree must be clean"
    broken = leaves.pr_leaf(broken=True)
    misspelt_line = broken.decode().splitlines().index(
        next(line for line in broken.decode().splitlines() if "anwser:" in line)) + 1
    files[leaves.PR_LEAF_PATH] = broken
    [report] = validate_files([leaves.PR_LEAF_PATH], files.get)
    assert [f.severity for f in report.findings] == ["error"]
    assert abs(report.findings[0].line - misspelt_line) <= 1
    files[leaves.PR_LEAF_PATH] = leaves.pr_leaf(broken=False)
    [report] = validate_files([leaves.PR_LEAF_PATH], files.get)
    assert report.findings == []


def _demo_args(*argv: str):
    import argparse

    from sandbox.entry_demo import add_arguments, options_from

    parser = argparse.ArgumentParser()
    add_arguments(parser)
    return options_from(parser.parse_args(list(argv)))


def test_demo_defaults_to_the_real_model_and_fast_keeps_the_tiny_one():
    real = _demo_args()
    assert (real.teacher, real.student, real.real) == ("smollm2-135m-instruct", "smollm2-135m-instruct", True)
    fast = _demo_args("--fast")
    assert (fast.teacher, fast.student, fast.real) == ("scripted", "tiny", False)
    assert fast.timeout_s < real.timeout_s
    mixed = _demo_args("--fast", "--teacher", "/models/t.gguf", "--timeout", "60")
    assert (mixed.teacher, mixed.student, mixed.timeout_s) == ("/models/t.gguf", "tiny", 60)


def test_story_budgets_fit_ten_minutes_on_two_idle_cores():
    from sandbox.demo.steps import STORY

    assert sum(budget for _, _, budget in STORY) < 600
    assert all(budget > 0 for _, _, budget in STORY)


def test_timeline_counts_cpu_and_says_when_a_step_goes_over_its_budget():
    now, cpu = [0.0], [0.0]
    out = io.StringIO()
    timeline = Timeline(stream=out, clock=lambda: now[0], cpu=lambda: cpu[0])
    with timeline.step("quick", budget_s=10):
        now[0], cpu[0] = 4.0, 7.5
    with timeline.step("slow", budget_s=10):
        now[0], cpu[0] = 30.0, 40.0
    lines = out.getvalue().splitlines()
    assert any("✓ quick (4.0s, 8 CPU-s)" in line for line in lines)
    assert any("✓ slow (26.0s, 32 CPU-s; over its 10s budget)" in line for line in lines)
    assert [s["cpu_s"] for s in timeline.as_dicts()] == [7.5, 32.5]
    assert timeline.cpu_total() == 40.0


def test_a_busy_machine_gets_one_thread_per_process():
    from sandbox.demo.models import threads_for

    assert threads_for(12.3, 2)[0] == 1 and "busy" in threads_for(12.3, 2)[1]
    assert threads_for(0.4, 2)[0] == 2
    assert threads_for(3.0, 16)[0] == 16


def _report(decision: str, reason: str) -> dict:
    return {
        "gate": {"decision": decision, "reason": reason, "passed": decision == "pass"},
        "metrics": {"rouge_l": {"value": 0.41, "baseline": 0.30, "n": 20,
                                "delta": {"mean": 0.11, "ci": [0.04, 0.18], "verdict": "better"}}},
        "leaves": [{"leaf": leaves.PR_LEAF_PATH, "rouge_l": 0.52, "baseline": {"rouge_l": 0.31}, "verdict": "better"},
                   {"leaf": "compositional_skills/writing/freeform/haiku/qna.yaml", "rouge_l": 0.2}],
        "items": [{"question": leaves.TRAINED_QUESTION, "answer": "An arborist\n plants, prunes " + "and cares " * 60,
                   "baseline_answer": "A tree surgeon."}],
    }


def test_gate_story_leads_with_the_verdict_and_reason_then_each_leaf_before_and_after():
    from sandbox.demo import outcome

    lines = outcome.gate_lines(_report("block", "the tree care leaf regressed"))
    assert lines[0] == "gate: BLOCK: the tree care leaf regressed"
    assert "0.300 (base) → 0.410 (trained), change +0.110 (95% CI +0.040..+0.180)" in lines[1]
    assert f"{leaves.PR_LEAF_PATH}: 0.310 → 0.520 (better)" in lines[2]
    assert lines[3].endswith("haiku/qna.yaml: 0.200 (no baseline)")
    assert outcome.gate_lines({})[0].startswith("gate: ?")  # a report without a gate still reads, it does not crash


def test_blocked_gate_says_why_and_what_the_consumer_gets():
    from sandbox.demo import outcome

    job = {"state": "failed", "result_title": "gate blocked the release"}
    assert outcome.gate_blocked(job) and not outcome.gate_blocked({"state": "failed", "result_title": "training failed"})
    story = outcome.blocked_story(_report("block", "no overall improvement"), job)
    assert story[0] == "no release: the gate blocked it (no overall improvement)"
    assert "base model" in " ".join(story)
    assert "gate blocked the release" in outcome.blocked_story(None, job)[0]


def test_evaluated_answers_of_the_trained_question_are_quoted_clipped():
    from sandbox.demo import outcome

    before, after = outcome.evaluated_answers(_report("pass", "better"), leaves.TRAINED_QUESTION)
    assert before == "A tree surgeon."
    assert after.startswith("An arborist plants, prunes and cares") and after.endswith("…")
    assert len(after) == outcome.ANSWER_CHARS
    assert outcome.evaluated_answers(_report("pass", "better"), "Something else?") is None


def test_release_lines_name_the_three_repositories_and_the_collection_and_say_what_is_missing():
    from sandbox.demo.outcome import release_lines

    repos = [{"role": "model", "url": "http://hub/acme/m", "files": ["a", "b"], "bytes": 2_500_000},
             {"role": "gguf", "url": "http://hub/acme/m-GGUF", "files": ["m-Q4_K_M.gguf"], "bytes": 100_000_000}]
    collection = {"title": "m releases", "url": "http://hub/collections/acme/m-releases-1",
                  "items": [{"type": "model", "id": "acme/m", "note": "Latest release v1 " + "x" * 300},
                            {"type": "model", "id": "acme/m-GGUF", "note": ""}]}
    lines = release_lines("v1", repos, collection)
    assert lines[0] == "model http://hub/acme/m @ v1: 2 files, 2.5 MB"
    assert lines[1] == "gguf  http://hub/acme/m-GGUF @ v1: 1 files, 100.0 MB"
    assert lines[2] == "not on the Hub for v1: data"
    assert lines[3] == 'collection "m releases" http://hub/collections/acme/m-releases-1'
    assert lines[4].startswith("  model acme/m: Latest release v1") and len(lines[4]) < 160
    assert lines[5] == "  model acme/m-GGUF"
    assert release_lines("v1", [], None)[-1] == "no collection lists this model line"


def test_generate_comment_samples_and_headline_are_read_back():
    from sandbox.demo.outcome import report_headline, samples_in

    body = ("**5 rows** from 1 leaf with `gguf:SmolLM2` in 40.0 s\n\n**Sample 1**\n\n> **Q:** What does mulch do?\n>\n"
            "> **A:** It keeps the soil moist.\n\n**Sample 2**\n\n> **Q:** " + "Why? " * 100 + "\n>\n> **A:** Because.\n"
            "> **A:** an answer without its question is not a sample\n")
    assert report_headline(body) == ["5 rows from 1 leaf with `gguf:SmolLM2` in 40.0 s"]
    samples = samples_in(body)
    assert len(samples) == 2
    assert samples[0] == "sample: Q: What does mulch do?\n        A: It keeps the soil moist."
    assert len(samples[1].split("\n")[0]) < 200 and samples[1].endswith("A: Because.")


def test_real_demo_taxonomy_keeps_one_small_skill_leaf():
    files = leaves.base_tree(REPO_ROOT, leaves.REAL_BASE_LEAVES)
    qna = [p for p in files if p.endswith("qna.yaml")]
    assert qna == ["compositional_skills/writing/freeform/haiku/qna.yaml"]
    assert "compositional_skills/writing/freeform/haiku/attribution.txt" in files
    assert len([p for p in leaves.base_tree(REPO_ROOT) if p.endswith("qna.yaml")]) > 1


def test_generated_samples_are_read_from_the_job_data_with_the_teachers_question(tmp_path):
    from sandbox.demo.outcome import samples_from_data

    document = "# Caring for trees\n\nMulch keeps the soil moist.\n\nWhy use mulch?"
    rows = [{"messages": [{"role": "user", "content": document}, {"role": "assistant", "content": "To keep soil moist."}],
             "metadata": {"question": "Why use mulch?"}},
            {"messages": [{"role": "user", "content": "Intro.\n\nWhat is a crown?"}, {"role": "assistant", "content": "Branches."}]}]
    lines = ["not json", json.dumps({"messages": "not a list"}), *map(json.dumps, rows)]
    (tmp_path / "knowledge_train_msgs.jsonl").write_text("\n".join(lines) + "\n")
    assert samples_from_data(tmp_path, 5) == ["sample: Q: Why use mulch?\n        A: To keep soil moist.",
                                              "sample: Q: What is a crown?\n        A: Branches."]
    assert len(samples_from_data(tmp_path, 1)) == 1
    assert samples_from_data(tmp_path / "missing", 2) == []
