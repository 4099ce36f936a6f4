"""Ray path overhead: the same retrain run by the local worker (a subprocess) and by the Ray executor (a Ray job).

The job: a taxonomy with two merged PRs, the tiny random student, the scripted teacher and a release
to a folder, as `ci.retrain` runs it in tests/ci/test_retrain.py. Each repeat runs it once per path,
alternating, each from a fresh data dir and generation cache, and times claim to final state (the
worker's `run_once`). A local Ray head (2 CPUs) starts once before the first repeat, not counted.
Prints each time, the medians and the ratio. The Ray-mode worker polls every --poll-s seconds.

    .venv/bin/python benchmarks/ray_overhead.py [--repeats 3] [--poll-s 0.5]
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bot.jobs.model import SUCCEEDED  # noqa: E402
from bot.jobs.ray_executor import RayWorker  # noqa: E402
from bot.jobs.worker import Worker  # noqa: E402
from sandbox.raycluster import local_ray_head  # noqa: E402
from tests.bot.jobs.world import REPO, make_world  # noqa: E402
from tests.ci.test_retrain import ATTRIBUTION, CONFIG, FACTS, TRAIN, WORDS, leaf  # noqa: E402
from tests.gitrepo import commit, git  # noqa: E402


def taxonomy(root: Path) -> str:
    """acme/taxonomy with PR #5 merged and #7 squashed, as the retrain tests build it; returns the head SHA."""
    repo = root / "git" / "acme" / "taxonomy.git"
    repo.mkdir(parents=True)
    git(repo, "init", "-q", "-b", "main")
    commit(repo, {".github/arborist.yml": CONFIG, "README.md": b"taxonomy\n"}, "base")
    git(repo, "checkout", "-q", "-b", "facts")
    commit(repo, {"compositional_skills/trivia/facts/qna.yaml": leaf("Answer trivia.", FACTS),
                  "compositional_skills/trivia/facts/attribution.txt": ATTRIBUTION}, "add facts")
    git(repo, "checkout", "-q", "main")
    git(repo, "merge", "-q", "--no-ff", "facts", "-m", "Merge pull request #5 from alice/facts")
    return commit(repo, {"compositional_skills/linguistics/synonyms/qna.yaml": leaf("Give synonyms.", WORDS),
                         "compositional_skills/linguistics/synonyms/attribution.txt": ATTRIBUTION},
                  "Add synonyms leaf (#7)")


def run_retrain(path: str, run_dir: Path, shared: dict[str, str], sha: str, address: str, poll_s: float) -> float:
    """One retrain job through the bot's service and one worker of `path` ("local" or "ray"); seconds."""
    step = {**shared, "ARBORIST_DATA_DIR": str(run_dir / "step"), "ARBORIST_CACHE_DIR": str(run_dir / "cache"),
            "ARBORIST_RELEASE_DIR": str(run_dir / "releases")}
    world = make_world(run_dir, executor=path, ray_address=address, ray_env=",".join(step), poll_s=poll_s,
                       heartbeat_s=1.0, lease_s=60.0)
    world.service.submit_retrain(world.github, REPO, sha, ref="main", merged=[5, 7])
    runner = RayWorker if path == "ray" else Worker
    worker = runner(world.service, client_for=lambda job: world.github, env={**os.environ, **step})
    started = time.perf_counter()
    final = worker.run_once()
    elapsed = time.perf_counter() - started
    if final is None or final.state != SUCCEEDED:
        raise SystemExit(f"{path}: the retrain did not succeed: {final and final.result_title}")
    return elapsed


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--poll-s", type=float, default=0.5, help="the Ray-mode worker's ARBORIST_POLL_S")
    args = parser.parse_args(argv)
    from sandbox.tiny import build_tiny_llama

    with tempfile.TemporaryDirectory(prefix="ray-overhead-") as tmp:
        root = Path(tmp)
        sha = taxonomy(root)
        (root / "train.json").write_text(json.dumps(TRAIN))
        shared = {"ARBORIST_GIT_URL_TEMPLATE": (root / "git").as_uri() + "/{repo}.git",
                  "ARBORIST_BASE_MODEL": str(build_tiny_llama(root / "student")), "ARBORIST_TEACHER": "scripted",
                  "ARBORIST_TRAIN_CONFIG": str(root / "train.json")}
        times: dict[str, list[float]] = {"local": [], "ray": []}
        with local_ray_head(num_cpus=2) as address:
            for repeat in range(args.repeats):
                for path in ("local", "ray"):
                    seconds = run_retrain(path, root / f"{path}-{repeat}", shared, sha, address, args.poll_s)
                    times[path].append(seconds)
                    print(f"repeat {repeat + 1}: {path:5} {seconds:6.1f} s", flush=True)
    local, ray = statistics.median(times["local"]), statistics.median(times["ray"])
    print(f"median: local worker {local:.1f} s, Ray executor {ray:.1f} s, ratio {ray / local:.2f} "
          f"(overhead {100 * (ray / local - 1):+.0f} %, load average {os.getloadavg()[0]:.1f})")
    return 0


if __name__ == "__main__":
    sys.exit(main())
