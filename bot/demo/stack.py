"""The running services of the demo: GitHub and Hub stand-ins (threads), the bot and a worker (processes).

Everything binds to 127.0.0.1 on free ports, and every secret is made up for this run only. The
bot and the worker get their settings through the environment, exactly as in a deployment.
"""

from __future__ import annotations

import json
import os
import secrets
import sqlite3
import subprocess
import sys
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from bot.demo.procs import LOOPBACK, free_port, wait_for_port

if TYPE_CHECKING:
    from bot.demo.github_side import GitHubSide
    from bot.demo.story import World

START_TIMEOUT_S = 60  # the bot imports FastAPI and the validator; slow machines need a while
PULL_TIMEOUT_S = 120
INSTALLATION_ID = 4242
# lab.train overrides for the tiny student (a GPU runner keeps the defaults): enough passes over a few
# dozen rows that a random 2-layer model measurably beats itself on the seed questions (the gate), on
# 2 CPU cores in about a minute. Fewer passes leave it within noise of the random base, and blocked.
TRAIN_FAST = "knowledge_epochs: 120\nskills_epochs: 20\nlr: 0.006\nmax_seq_len: 256\nmax_tokens_per_micro_batch: 1024\n"
TRAIN_FULL = "knowledge_epochs: 120\nskills_epochs: 60\nlr: 0.006\nmax_seq_len: 512\nmax_tokens_per_micro_batch: 2048\n"


@dataclass
class Stack:
    world: World
    github: GitHubSide
    hub: Any  # lab.standins.HubStandIn
    hub_token: str
    bot_url: str
    data_dir: Path
    env: dict[str, str] = field(default_factory=dict)

    def describe(self) -> list[str]:
        return [f"GitHub stand-in {self.github.url} · Hub stand-in {self.hub.url}",
                f"bot {self.bot_url}/webhook · worker on {self.data_dir / 'jobs.sqlite3'}"]

    def jobs(self) -> list[dict[str, Any]]:
        """Every job in the store, oldest first (read-only; the bot and the worker own the database)."""
        db = self.data_dir / "jobs.sqlite3"
        if not db.exists():
            return []
        try:
            with sqlite3.connect(f"{db.as_uri()}?mode=ro", uri=True, timeout=5) as conn:
                conn.row_factory = sqlite3.Row
                return [dict(r) for r in conn.execute("SELECT * FROM jobs ORDER BY id")]
        except sqlite3.OperationalError:  # the table is created by the first writer
            return []

    def jobs_count(self) -> int:
        return len(self.jobs())

    def job_finished(self, kind: str) -> dict[str, Any] | None:
        """The newest job of `kind` once it is in a final state, else None."""
        jobs = [j for j in self.jobs() if j.get("kind") == kind]
        if jobs and jobs[-1].get("state") in ("succeeded", "failed", "cancelled"):
            job = jobs[-1]
            job["error"] = job.get("reason", "")
            return job
        return None

    def job_log_tail(self, job: dict[str, Any], lines: int = 12) -> str:
        """The end of a job's log on the worker, to explain a failure without opening files."""
        path = Path(str(job.get("log_url") or ""))
        if not path.is_file() or self.data_dir not in path.parents:
            return ""
        text = path.read_text(encoding="utf-8", errors="replace").splitlines()
        return "\n".join(line for line in text[-lines:] if not line.startswith("::arborist-"))

    def hub_releases(self) -> list[str]:
        """Tags of the demo's model repository on the Hub stand-in."""
        from bot.demo.leaves import HUB_REPO

        with self.hub.state.lock:
            repo = self.hub.state.repos.get(HUB_REPO)
            return sorted(repo.tags) if repo else []

    def release_files(self, tag: str) -> dict[str, int]:
        """File name -> size in bytes of one release on the Hub stand-in."""
        from bot.demo.leaves import HUB_REPO

        return {name: len(data) for name, data in sorted(self.hub.files(HUB_REPO, tag).items())}

    def lab_env(self) -> dict[str, str]:
        """The environment a consumer's `lab` uses to reach the Hub stand-in."""
        return {**os.environ, "HF_ENDPOINT": self.hub.url, "HF_TOKEN": self.hub_token,
                "HF_HUB_DISABLE_XET": "1", "HF_HUB_DISABLE_PROGRESS_BARS": "1",
                "HF_HOME": str(self.world.work / "consumer-hf")}

    def pull_and_chat(self, question: str, fmt: str = "hf") -> str:
        """`lab pull` the newest release, then `lab chat --prompt` the question; return the answer."""
        from bot.demo.leaves import HUB_REPO

        lab = [sys.executable, "-m", "lab.cli"]
        where = ["--endpoint", self.hub.url, "--cache-dir", str(self.world.work / "consumer-cache")]
        env = self.lab_env()
        pulled = subprocess.run([*lab, "pull", HUB_REPO, "--format", fmt, *where], env=env, capture_output=True,
                                text=True, timeout=PULL_TIMEOUT_S)
        if pulled.returncode != 0:
            raise RuntimeError(f"lab pull failed: {(pulled.stderr or pulled.stdout)[-800:]}")
        last = (pulled.stdout.strip().splitlines() or [""])[-1]
        self.world.timeline.note(f"$ lab pull {HUB_REPO} --format {fmt}\n{last}")
        chat = subprocess.run([*lab, "chat", HUB_REPO, "--format", fmt, *where, "--prompt", question,
                               "--max-tokens", "32"], env=env, capture_output=True, text=True, timeout=PULL_TIMEOUT_S)
        if chat.returncode != 0:
            raise RuntimeError(f"lab chat failed: {(chat.stderr or chat.stdout)[-800:]}")
        return chat.stdout.strip()


def start(world: World) -> Stack:
    from bot.demo.github_side import GitHubSide
    from bot.demo.leaves import CONTRIBUTOR, MAINTAINER
    from bot.demo.story import TAXONOMY
    from lab.standins import HubStandIn

    hub_token = "hf_demo_" + secrets.token_hex(8)
    hub = HubStandIn(token=hub_token).start()
    world.procs.on_close(hub.stop)
    secret = secrets.token_hex(16)
    github = GitHubSide.start(world, TAXONOMY, INSTALLATION_ID, secret)
    github.add_collaborator(MAINTAINER, "maintain")
    github.add_collaborator(CONTRIBUTOR, "read")

    data_dir = world.work / "arborist-data"
    data_dir.mkdir(parents=True, exist_ok=True)
    key_path = world.work / "app-key.pem"
    key_path.write_bytes(github.private_key_pem)
    key_path.chmod(0o600)
    train_config = world.work / "train.yaml"
    train_config.write_text(TRAIN_FAST if world.options.fast else TRAIN_FULL)
    port = free_port()
    repo_root = Path(__file__).resolve().parents[2]
    source = [str(repo_root)] if (repo_root / "pyproject.toml").is_file() else []  # a checkout, not a wheel
    env = {
        **os.environ,
        "PYTHONPATH": os.pathsep.join(filter(None, [*source, os.environ.get("PYTHONPATH", "")])),
        "ARBORIST_DATA_DIR": str(data_dir),
        "ARBORIST_EXECUTOR": "local",
        "ARBORIST_GITHUB_URL": github.url,  # the bot (bot.settings)
        "ARBORIST_GITHUB_API_URL": github.url,  # ci steps (ci.env)
        "ARBORIST_APP_ID": str(github.app_id),
        "ARBORIST_PRIVATE_KEY_FILE": str(key_path),
        "ARBORIST_WEBHOOK_SECRET": secret,
        "ARBORIST_POLL_S": "0.2",
        "ARBORIST_HEARTBEAT_S": "2",
        "ARBORIST_LEASE_S": "30",
        "ARBORIST_JOB_TIMEOUT_S": str(int(world.options.timeout_s)),
        "ARBORIST_GIT_URL_TEMPLATE": (world.work / "git").as_uri() + "/{repo}.git",
        "ARBORIST_DOCS_CACHE": str(world.work / "docs-cache"),
        "ARBORIST_TEACHER": world.options.teacher,
        "ARBORIST_BASE_MODEL": str(world.student_dir),
        "ARBORIST_TRAIN_CONFIG": str(train_config),
        "HF_ENDPOINT": hub.url,
        "HF_TOKEN": hub_token,
        "HF_HUB_DISABLE_XET": "1",
        "HF_HUB_DISABLE_PROGRESS_BARS": "1",
        "HF_HOME": str(world.work / "worker-hf"),
        "TOKENIZERS_PARALLELISM": "false",
        "OMP_NUM_THREADS": "2",
    }
    if "docs_mirror" in world.state:  # knowledge documents: the https URL in the leaf, served from disk
        local, public = world.state["docs_mirror"]
        env["ARBORIST_DOCS_MIRRORS"] = f"{public}={local}"  # the operator's mirror setting (lab.generate.documents)
    arborist = [sys.executable, "-m", "bot.cli"]
    bot = world.procs.start("bot", [*arborist, "serve", "--host", LOOPBACK, "--port", str(port)], env)
    try:
        wait_for_port(port, START_TIMEOUT_S, bot.alive)
    except (RuntimeError, TimeoutError) as exc:
        raise RuntimeError(f"the bot did not start ({exc}); its log ends:\n{bot.log_tail()}") from None
    worker = world.procs.start("worker", [*arborist, "worker"], env)
    bot_url = f"http://{LOOPBACK}:{port}"
    github.webhook_url = f"{bot_url}/webhook"
    (world.options.out / "services.json").write_text(json.dumps(
        {"github": github.url, "hub": hub.url, "bot": bot_url, "data_dir": str(data_dir),
         "pids": {"bot": bot.proc.pid, "worker": worker.proc.pid}}, indent=2) + "\n")
    return Stack(world, github, hub, hub_token, bot_url, data_dir, env)
