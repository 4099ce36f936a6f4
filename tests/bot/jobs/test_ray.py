"""The Ray executor on a real local Ray cluster: submit, follow into the status comment, cancel, and a dead head.

The cluster (a head with 2 CPUs and its job server) starts once for the module and is stopped at the
end; only the tests marked `slow` use it. The step is the real `python -m ci.generate` with the
scripted teacher, run by Ray on this machine from a local git taxonomy.
"""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest

pytest.importorskip("ray.job_submission")

from bot.jobs.model import CANCELLED, FAILED, QUEUED, SUCCEEDED  # noqa: E402
from bot.jobs.ray_executor import ARGV_VAR, RayExecutor, RayWorker, main  # noqa: E402
from bot.jobs.settings import JobSettings  # noqa: E402
from lab.github.protocol import PullRequest  # noqa: E402
from sandbox.raycluster import free_port, local_ray_cluster  # noqa: E402
from tests.bot.jobs.world import MAINTAINER, PR, REPO, make_world  # noqa: E402
from tests.ci.test_retrain import retrain_env  # noqa: E402, F401 - the fixture: a taxonomy with merged PRs #5 and #7
from tests.conftest import REPO_ROOT  # noqa: E402
from tests.gitrepo import commit, git  # noqa: E402
from tests.lab.generate.conftest import FREEFORM  # noqa: E402

LEAF = "compositional_skills/linguistics/synonyms/qna.yaml"
ATTRIBUTION = (b"Title of work: Synonyms\nLink to work: https://example.org/synonyms\n"
               b"License of the work: CC-BY-4.0\nCreator names: tester\n")
SCRIPTED = b"generate:\n  samples: 2\n  teacher: scripted\n"
STEP_ENV = "ARBORIST_GIT_URL_TEMPLATE,ARBORIST_DATA_DIR,ARBORIST_TEACHER"


@pytest.fixture(scope="module")
def ray_cluster():
    """One real local cluster (2 CPUs) for the module's slow tests: its job server and its GCS address."""
    with local_ray_cluster(num_cpus=2) as head:
        yield head


@pytest.fixture(scope="module")
def ray_head(ray_cluster):
    """The cluster's job server URL, as the bot's Ray executor is configured with it."""
    return ray_cluster.jobs_url


def _taxonomy(root: Path, config: bytes) -> tuple[str, str]:
    """acme/taxonomy as a local git repository: config on main, a PR adding one leaf. (URL template, PR sha)."""
    repo = root / "git" / "acme" / "taxonomy.git"
    repo.mkdir(parents=True)
    git(repo, "init", "-q", "-b", "main")
    commit(repo, {".github/arborist.yml": config, "README.md": b"taxonomy\n"}, "base")
    git(repo, "checkout", "-q", "-b", "pr")
    sha = commit(repo, {LEAF: FREEFORM, LEAF.replace("qna.yaml", "attribution.txt"): ATTRIBUTION}, "contribution")
    git(repo, "checkout", "-q", "main")
    return (root / "git").as_uri() + "/{repo}.git", sha


def _pull(sha: str) -> PullRequest:
    return PullRequest(number=PR, state="open", head_sha=sha, head_ref="feature", base_ref="main",
                       base_sha="c" * 40, author="contributor", head_repo="fork/taxonomy",
                       html_url=f"https://github.test/{REPO}/pull/{PR}")


def _ray_world(tmp_path: Path, address: str, namespace: str, **settings):
    """Jobs on the test cluster; each test its own namespace, as two deployments sharing a cluster would."""
    return make_world(tmp_path, executor="ray", ray_address=address, heartbeat_s=0.5, lease_s=30, poll_s=0.2,
                      ray_env=STEP_ENV, ray_namespace=namespace, **settings)


def _worker(world, env: dict[str, str]) -> RayWorker:
    return RayWorker(world.service, client_for=lambda job: world.github, env=env, progress_publish_s=0.0)


def _comment_states(world) -> list[str]:
    """The headline word of every status comment body GitHub saw, in order, repeats folded."""
    words = []
    for name, args in world.github.calls:
        if name in ("create_comment", "edit_comment") and "arborist:status" in args[2]:
            word = args[2].split("**")[1]
            if not words or words[-1] != word:
                words.append(word)
    return words


def _conclusions(world) -> list[str]:
    return [args[3] for name, args in world.github.calls if name == "update_check_run" and args[3]]


@pytest.mark.slow
def test_a_generate_job_runs_as_a_ray_job_and_its_progress_and_result_reach_the_pr(ray_head, tmp_path):
    template, sha = _taxonomy(tmp_path, SCRIPTED)
    marker = tmp_path / "pwned"
    world = _ray_world(tmp_path, ray_head, "generate-test")
    outcome, job = world.service.submit_generate(
        world.github, REPO, _pull(sha), comment_id=1, requested_by=MAINTAINER,
        leaves=("compositional_skills/linguistics", f"$(touch {marker})", f"; touch {marker}"))
    assert job is not None and job.state == QUEUED
    env = {"ARBORIST_GIT_URL_TEMPLATE": template, "ARBORIST_DATA_DIR": str(tmp_path / "data"),
           "ARBORIST_WEBHOOK_SECRET": "never-handed-to-the-step"}

    final = _worker(world, env).run_once()

    assert final is not None and final.state == SUCCEEDED, final.result_md
    assert final.result_title == "2 synthetic rows for 1 changed leaf"
    assert _comment_states(world) == ["queued", "running", "done"]
    running = [a[2] for n, a in world.github.calls if n == "edit_comment" and "**running**" in a[2]]
    assert any("loading teacher" in body for body in running)  # a step line became progress on the PR
    assert _conclusions(world) == ["success"]
    rows = (tmp_path / "data" / "generate" / f"job-{job.id}" / "out" / "skills_train_msgs.jsonl").read_text()
    assert len(rows.splitlines()) == 2
    log = world.service.executor.logs(job.id)
    assert isinstance(world.service.executor, RayExecutor) and log is not None
    assert "submitted to the Ray cluster" in log and "::arborist-result::" in log
    assert not marker.exists()  # the PR's leaf arguments were data, never shell


def _stalling_teacher() -> socket.socket:
    """An OpenAI-compatible URL that accepts connections and never answers: the step waits on it."""
    sock = socket.socket()
    sock.bind(("127.0.0.1", 0))
    sock.listen(16)
    return sock


@pytest.mark.slow
def test_cancel_stops_the_running_ray_job_and_the_job_ends_cancelled_once(ray_head, tmp_path):
    from ray.job_submission import JobSubmissionClient

    template, sha = _taxonomy(tmp_path, b"generate:\n  samples: 2\n")
    teacher = _stalling_teacher()
    world = _ray_world(tmp_path, ray_head, "cancel-test")
    _, job = world.service.submit_generate(world.github, REPO, _pull(sha), comment_id=2, requested_by=MAINTAINER)
    assert job is not None
    env = {"ARBORIST_GIT_URL_TEMPLATE": template, "ARBORIST_DATA_DIR": str(tmp_path / "data"),
           "ARBORIST_TEACHER": f"http://127.0.0.1:{teacher.getsockname()[1]}/v1"}
    ended: list = []
    runner = threading.Thread(target=lambda: ended.append(_worker(world, env).run_once()), daemon=True)
    runner.start()
    deadline = time.monotonic() + 90
    while "teacher" not in world.store.get(job.id).progress:
        assert time.monotonic() < deadline and runner.is_alive(), world.service.executor.logs(job.id)
        time.sleep(0.2)

    asked = time.monotonic()
    world.service.cancel_pr(world.github, REPO, PR, "cancelled by @maya")
    runner.join(timeout=60)
    teacher.close()

    assert not runner.is_alive() and time.monotonic() - asked < 30
    assert ended[0].state == CANCELLED and ended[0].reason == "cancelled by @maya"
    assert _comment_states(world)[-2:] == ["running", "cancelled"] and _conclusions(world) == ["cancelled"]
    ours = [j for j in JobSubmissionClient(ray_head).list_jobs()
            if (j.metadata or {}).get("arborist_namespace") == "cancel-test"]
    assert [str(getattr(j.status, "value", j.status)) for j in ours] == ["STOPPED"]


@pytest.mark.slow
def test_a_merged_prs_retrain_runs_as_a_ray_job_and_releases(ray_head, retrain_env):  # noqa: F811
    """The retrain step (tiny student, scripted teacher, release to a folder) on the cluster, by settings alone."""
    sha, tmp, step_settings = retrain_env
    world = make_world(tmp / "bot", executor="ray", ray_address=ray_head, heartbeat_s=0.5, lease_s=30, poll_s=0.2,
                       ray_env=",".join(step_settings), ray_namespace="retrain-test")
    job, created = world.service.submit_retrain(world.github, REPO, sha, ref="main", merged=[5, 7])
    assert created

    final = _worker(world, dict(step_settings)).run_once()

    assert final is not None and final.state == SUCCEEDED, final.result_md
    latest = (tmp / "releases" / "LATEST").read_text().strip()
    assert latest in final.result_title
    record = json.loads((tmp / "releases" / "releases" / latest / "release.json").read_text())
    assert record["taxonomy_sha"] == sha and {leaf["pr_number"] for leaf in record["leaves"]} == {5, 7}
    (run,) = world.github.check_runs(REPO, name="arborist/retrain")
    assert run.conclusion == "success" and run.updates >= 2  # queued, running with progress, done
    log = world.service.executor.logs(job.id) or ""
    assert "::arborist-progress::" in log and "submitted to the Ray cluster" in log


def _step_pids(namespace: str) -> list[int]:
    """The running `ci.generate` of our test's Ray job: this user's processes with its namespace in their environment."""
    pids = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            environ = (entry / "environ").read_bytes().split(b"\0")
            cmdline = (entry / "cmdline").read_bytes()
        except OSError:
            continue
        if f"RAY_NAMESPACE={namespace}".encode() in environ and b"ci.generate" in cmdline:
            pids.append(int(entry.name))
    return pids


def _run_until_waiting_on_the_teacher(world, worker: RayWorker, job_id: int, namespace: str):
    """Start run_once in a thread; return it, its result list and the step's pids once it waits on the teacher."""
    ended: list = []
    runner = threading.Thread(target=lambda: ended.append(worker.run_once()), daemon=True)
    runner.start()
    deadline = time.monotonic() + 90
    while "teacher" not in world.store.get(job_id).progress or not _step_pids(namespace):
        assert time.monotonic() < deadline and runner.is_alive(), world.service.executor.logs(job_id)
        time.sleep(0.2)
    return runner, ended, _step_pids(namespace)


@pytest.mark.slow
def test_a_step_killed_on_the_cluster_is_retried_within_its_attempts_then_fails_once(ray_head, tmp_path):
    template, sha = _taxonomy(tmp_path, b"generate:\n  samples: 2\n")
    teacher = _stalling_teacher()
    world = _ray_world(tmp_path, ray_head, "die-test", max_attempts=2)
    _, job = world.service.submit_generate(world.github, REPO, _pull(sha), comment_id=4, requested_by=MAINTAINER)
    assert job is not None
    worker = _worker(world, {"ARBORIST_GIT_URL_TEMPLATE": template, "ARBORIST_DATA_DIR": str(tmp_path / "data"),
                             "ARBORIST_TEACHER": f"http://127.0.0.1:{teacher.getsockname()[1]}/v1"})
    ends = []
    for _attempt in (1, 2):
        runner, ended, pids = _run_until_waiting_on_the_teacher(world, worker, job.id, "die-test")
        for pid in pids:
            os.kill(pid, signal.SIGKILL)  # as the OOM killer would
        runner.join(timeout=60)
        assert not runner.is_alive()
        ends.append(ended[0])
    teacher.close()

    assert ends[0].state == QUEUED and "killed on the cluster" in ends[0].reason
    assert ends[1].state == FAILED and ends[1].attempts == 2 and "killed on the cluster" in ends[1].result_title
    assert _conclusions(world) == ["failure"]  # one report, after the last attempt
    assert "queued" in _comment_states(world)[2:]  # the retry was shown: queued again after running


def test_the_ray_logs_new_lines_become_the_masked_log_progress_and_the_result_and_a_partial_line_waits(tmp_path):
    from io import StringIO

    from bot.jobs.ray_executor import RayOutcome, _Follow

    world = _ray_world(tmp_path, "http://127.0.0.1:9", "relay")  # no cluster: the log text is handed in
    world.store.enqueue("generate", REPO, "a" * 40, pr=PR)
    worker = _worker(world, env={})
    published: list[str] = []
    worker._publish = lambda job, tries: published.append(job.progress) or True
    job = world.store.claim(worker.worker_id, 60)
    log, outcome, seen = StringIO(), RayOutcome(), _Follow()
    text = ('token s3cr3t-value\n::arborist-progress::{"text": "loading teacher", "fraction": 0.5}\n'
            '::arborist-result::{"conclusion": "success", "title": "2 rows"')
    worker._take(job, text, False, log, ["s3cr3t-value"], outcome, seen)
    assert "s3cr3t-value" not in log.getvalue() and "token ***" in log.getvalue()
    assert world.store.get(job.id).progress == "loading teacher" and outcome.result is None  # the line is not whole
    assert published == ["loading teacher"]  # published at once (progress_publish_s=0 here)
    worker._take(job, text + ', "summary": ""}', True, log, [], outcome, seen)
    assert outcome.result is not None and outcome.result.title == "2 rows"
    assert log.getvalue().count("loading teacher") == 1  # each line once, however often the log is read


def test_an_unreachable_head_costs_the_attempts_then_fails_once_with_the_reason(tmp_path):
    closed = free_port()  # nothing listens here
    world = make_world(tmp_path, executor="ray", ray_address=f"http://127.0.0.1:{closed}", max_attempts=2, poll_s=0.01)
    _, job = world.service.submit_generate(world.github, REPO, _pull("d" * 40), comment_id=3, requested_by=MAINTAINER)
    assert job is not None
    worker = _worker(world, {})

    first = worker.run_once()
    assert first is not None and first.state == QUEUED and first.attempts == 1
    assert f"127.0.0.1:{closed}" in first.reason and "did not take the job" in first.reason
    assert "Why again: attempt 1 of 2 was lost" in world.status_comments()[0].body
    second = worker.run_once()
    assert second is not None and second.state == FAILED and second.attempts == 2
    assert "did not take the job" in second.result_title and "attempt 2 of 2" in second.result_title
    assert worker.run_once() is None  # nothing left to claim: not retried beyond its attempts
    assert _conclusions(world) == ["failure"]  # reported once
    log = world.service.executor.logs(job.id) or ""
    assert log.count("did not take the job") == 2 and "attempt 2" in log


def test_arborist_worker_runs_jobs_on_ray_by_configuration_alone(tmp_path, app_key, standin):
    """`arborist worker` with ARBORIST_EXECUTOR=ray: no code, only settings; a dead head shows it took the job."""
    world = make_world(tmp_path, executor="ray", ray_address="http://127.0.0.1:9")
    job, _ = world.store.enqueue("generate", REPO, "e" * 40, pr=PR, installation_id=1, max_attempts=1)
    key = tmp_path / "app.pem"
    key.write_text(app_key[0])
    closed = free_port()
    env = {**os.environ, "PYTHONPATH": str(REPO_ROOT), "ARBORIST_DATA_DIR": str(world.settings.data_dir),
           "ARBORIST_EXECUTOR": "ray", "ARBORIST_RAY_ADDRESS": f"http://127.0.0.1:{closed}",
           "ARBORIST_APP_ID": "7", "ARBORIST_PRIVATE_KEY_FILE": str(key),
           "ARBORIST_GITHUB_URL": standin.base_url}
    done = subprocess.run([sys.executable, "-m", "bot.cli", "worker", "--once", "--log-level", "error"], env=env,
                          capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    ended = world.store.get(job.id)
    assert ended.state == FAILED and f"127.0.0.1:{closed}" in ended.reason and "did not take the job" in ended.reason


@pytest.mark.parametrize("argv", ["", "not json", json.dumps(["-c", "import os; os.system('id')"]),
                                  json.dumps(["-m", "ci.evil"]), json.dumps(["-m", "ci.generate", 7]),
                                  json.dumps({"-m": "ci.generate"})])
def test_the_cluster_side_launcher_refuses_anything_but_a_ci_step(argv, capsys):
    assert main({ARGV_VAR: argv}) == 2
    assert ARGV_VAR in capsys.readouterr().err


def test_ray_settings_are_checked_and_the_auth_header_never_shown():
    with pytest.raises(ValueError, match="ARBORIST_RAY_ADDRESS"):
        JobSettings(executor="ray")
    with pytest.raises(ValueError, match="ARBORIST_RAY_AUTH_HEADER"):
        JobSettings(executor="ray", ray_address="http://head:8265", ray_auth_header="just-a-token")
    settings = JobSettings.from_environ({"ARBORIST_EXECUTOR": "ray", "ARBORIST_RAY_ADDRESS": "https://head:8265",
                                         "ARBORIST_RAY_AUTH_HEADER": "Authorization: Bearer s3cret-value",
                                         "ARBORIST_RAY_NUM_GPUS": "1"})
    assert settings.ray_num_gpus == 1.0 and "s3cret-value" not in repr(settings)


def test_every_ray_setting_is_in_the_readme_settings_table():
    readme = (REPO_ROOT / "README.md").read_text(encoding="utf-8")
    for name in JobSettings.model_fields:
        if name.startswith("ray_"):
            assert f"`ARBORIST_{name.upper()}`" in readme, name


def test_the_kuberay_manifests_run_the_pinned_ray_with_gpu_workers_and_the_shared_volume():
    import yaml

    pin = next(line.split("==")[1].split()[0] for line in (REPO_ROOT / "constraints.txt").read_text().splitlines()
               if line.startswith("ray=="))
    cluster = [d for d in yaml.safe_load_all((REPO_ROOT / "deploy/kuberay/raycluster.yaml").read_text())
               if d["kind"] == "RayCluster"][0]["spec"]
    job = yaml.safe_load((REPO_ROOT / "deploy/kuberay/rayjob-retrain.yaml").read_text())["spec"]
    assert job["entrypoint"].startswith("python -m ci.retrain ") and job["entrypointNumGpus"] >= 1
    for spec in (cluster, job["rayClusterSpec"]):
        assert spec["rayVersion"] == pin
        for group in spec["workerGroupSpecs"]:
            pod = group["template"]["spec"]
            (container,) = pod["containers"]
            assert container["resources"]["limits"]["nvidia.com/gpu"] >= 1
            assert {"name": "data", "mountPath": "/data"} in container["volumeMounts"]
            claims = [v["persistentVolumeClaim"]["claimName"] for v in pod["volumes"] if "persistentVolumeClaim" in v]
            assert claims == ["arborist-data"]


@pytest.mark.slow
def test_generation_fans_out_over_two_teacher_replicas_as_ray_tasks_and_writes_the_local_bytes(ray_cluster, tmp_path):
    import ray

    from lab.generate import GenerateParams, generate_leaves
    from lab.generate.backends.openai_http import OpenAIBackend
    from lab.generate.fanout import TeacherReplicas, generate_leaves_fanned, ray_map
    from lab.taxonomy.leaf import leaf_from_yaml
    from sandbox.standins.teacher import MODEL, ScriptedTeacherServer

    leaves = [leaf_from_yaml(f"compositional_skills/linguistics/synonyms_{i}/qna.yaml", FREEFORM) for i in range(4)]
    params = GenerateParams(samples=3, max_attempts_factor=6.0)
    ray.init(address=ray_cluster.gcs_address, logging_level="ERROR", log_to_driver=False)
    try:
        with ScriptedTeacherServer() as one, ScriptedTeacherServer() as two:
            replicas = TeacherReplicas((one.url, two.url))
            fanned = generate_leaves_fanned(leaves, replicas, tmp_path / "ray", params, cache_dir=tmp_path / "c1",
                                            mapper=ray_map())
            served = (one.requests, two.requests)
            backend = OpenAIBackend(one.url, teacher_id=replicas.teacher_id(MODEL))
            generate_leaves(leaves, backend, tmp_path / "local", params, cache_dir=tmp_path / "c2")
            backend.close()
    finally:
        ray.shutdown()
    assert served[0] > 0 and served[1] > 0  # both replicas answered, from Ray's worker processes
    files = lambda root: {p.relative_to(root).as_posix(): p.read_bytes() for p in sorted(root.rglob("*.jsonl"))}  # noqa: E731
    assert files(tmp_path / "ray") == files(tmp_path / "local") and len(files(tmp_path / "ray")) == 6
    assert [r["leaves"] for r in fanned.replicas] == [2, 2, 4]


@pytest.mark.slow
def test_training_runs_on_two_ray_train_workers_survives_a_killed_worker_and_matches_one_process(
        ray_cluster, tiny_llama_dir, tmp_path):
    import ray

    from lab.train.config import TrainConfig
    from lab.train.ray_train import PID_DIR, RayTrainOptions, train_on_ray
    from lab.train.trainer import RunOptions, train
    from tests.lab.train.conftest import read_metrics, write_data

    many = [(f"Fact {i}: what is item {i}?", f"Item {i} is a thing.") for i in range(16)]
    data = write_data(tmp_path / "data", knowledge=many, skills=many[:6])
    settings = dict(cpu_threads=1, knowledge_epochs=3, skills_epochs=3, max_tokens_per_micro_batch=96, max_seq_len=64,
                    save_every_steps=4)
    out, killed = tmp_path / "on-ray", []

    def kill_rank_one_after_the_first_checkpoint() -> None:
        deadline = time.monotonic() + 300
        while time.monotonic() < deadline:
            pid_file = out / PID_DIR / "rank-1.pid"
            if (out / "phase1" / "checkpoint-4" / "state.json").exists() and pid_file.exists():
                time.sleep(0.15)  # a step or two past the checkpoint
                pid = int(pid_file.read_text())
                os.kill(pid, signal.SIGKILL)
                killed.append(pid)
                return
            time.sleep(0.02)

    killer = threading.Thread(target=kill_rank_one_after_the_first_checkpoint, daemon=True)
    killer.start()
    ray.init(address=ray_cluster.gcs_address, logging_level="ERROR", log_to_driver=False)
    try:
        train_on_ray(data, str(tiny_llama_dir), out, TrainConfig(**settings, distributed="ddp"),
                     RayTrainOptions(num_workers=2, step_delay_s=0.05))
    finally:
        ray.shutdown()
    killer.join(timeout=5)
    assert killed, "the worker was never killed: the test proved nothing"
    assert (out / "final" / "config.json").is_file()
    train(data, str(tiny_llama_dir), tmp_path / "one", TrainConfig(**settings, grad_accum=2),
          RunOptions(progress=False, log=lambda s: None))
    on_ray, single = read_metrics(out), read_metrics(tmp_path / "one")
    assert [(m["phase"], m["step"]) for m in on_ray] == [(m["phase"], m["step"]) for m in single]
    for a, b in zip(on_ray, single, strict=True):  # the DDP tests' tolerance
        assert a["loss"] == pytest.approx(b["loss"], rel=1e-4) and a["lr"] == pytest.approx(b["lr"])
