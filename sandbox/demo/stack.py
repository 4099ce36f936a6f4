"""The running services of the demo: GitHub and Hub stand-ins (threads), the bot and a worker (processes).

Everything binds to 127.0.0.1 on free ports, and every secret is made up for this run only. The
bot and the worker get their settings through the environment, exactly as in a deployment.
"""

from __future__ import annotations

import base64
import json
import os
import secrets
import sqlite3
import subprocess
import sys
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from lab.publish.signing import KEY_ENV, PUBLIC_KEY_ENV
from sandbox.demo.models import cpu_threads
from sandbox.demo.procs import LOOPBACK, free_port, wait_for_port

if TYPE_CHECKING:
    from sandbox.demo.github_side import GitHubSide
    from sandbox.demo.world import World

START_TIMEOUT_S = 60  # the bot imports FastAPI and the validator; slow machines need a while
PULL_TIMEOUT_S = 300  # the real release is ~0.5 GB of safetensors through the Hub stand-in
INSTALLATION_ID = 4242
RELEASE_REPOS = (("model", "{repo}", "model"), ("gguf", "{repo}-GGUF", "model"), ("data", "{repo}-data", "dataset"))


@dataclass
class Stack:
    world: World
    github: GitHubSide
    hub: Any  # sandbox.standins.hub.HubStandIn
    hub_token: str
    bot_url: str
    data_dir: Path
    env: dict[str, str] = field(default_factory=dict)
    release_public_key: str = ""  # base64 of the Ed25519 key the worker signs releases with (lab pull --verify)

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
        from sandbox.demo.leaves import HUB_REPO

        with self.hub.state.lock:
            repo = self.hub.state.repos.get(HUB_REPO)
            return sorted(repo.tags) if repo else []

    def release_files(self, tag: str) -> dict[str, int]:
        """File name -> size in bytes of one release on the Hub stand-in, with its `-GGUF` twin's files if any
        (a twin's files are named `<twin repo>/<file>`)."""
        from sandbox.demo.leaves import HUB_REPO

        found: dict[str, int] = {}
        for repo_id, prefix in ((HUB_REPO, ""), (f"{HUB_REPO}-GGUF", f"{HUB_REPO}-GGUF/")):
            with self.hub.state.lock:
                present = repo_id in self.hub.state.repos
            if present:
                found |= {prefix + name: len(data) for name, data in sorted(self.hub.files(repo_id, tag).items())}
        return found

    def release_repos(self, tag: str) -> list[dict[str, Any]]:
        """Each repository holding release `tag` on the Hub stand-in (model, its -GGUF twin, its -data dataset):
        role, id, kind, URL, file names and bytes."""
        from sandbox.demo.leaves import HUB_REPO
        from sandbox.standins.hub import repo_key

        found = []
        for role, repo_id, kind in RELEASE_REPOS:
            repo_id = repo_id.format(repo=HUB_REPO)
            with self.hub.state.lock:
                repo = self.hub.state.repos.get(repo_key(repo_id, kind))
                tagged = repo is not None and tag in repo.tags
            if tagged:
                files = self.hub.files(repo_id, tag, repo_type=kind)
                found.append({"role": role, "repo": repo_id, "kind": kind, "files": sorted(files),
                              "bytes": sum(map(len, files.values())),
                              "url": f"{self.hub.url}/{'datasets/' if kind == 'dataset' else ''}{repo_id}"})
        return found

    def collection(self) -> dict[str, Any] | None:
        """The model line's collection on the Hub stand-in (the one listing the demo's model repository)."""
        from sandbox.demo.leaves import HUB_REPO

        with self.hub.state.lock:
            for slug, collection in self.hub.state.collections.items():
                if any(item.get("id") == HUB_REPO for item in collection.get("items", [])):
                    items = [{"type": i.get("type"), "id": i.get("id"), "note": (i.get("note") or {}).get("text", "")}
                             for i in collection["items"]]
                    return {"slug": slug, "title": collection.get("title"), "url": f"{self.hub.url}/collections/{slug}",
                            "items": items}
        return None

    def lab_env(self) -> dict[str, str]:
        """The environment a consumer's `lab` uses to reach the Hub stand-in (and the release key it trusts)."""
        return {**os.environ, "HF_ENDPOINT": self.hub.url, "HF_TOKEN": self.hub_token,
                "HF_HUB_DISABLE_XET": "1", "HF_HUB_DISABLE_PROGRESS_BARS": "1",
                "HF_HOME": str(self.world.work / "consumer-hf"), PUBLIC_KEY_ENV: self.release_public_key}

    def pull_and_chat(self, question: str, fmt: str = "hf", pull: bool = True, quant: str = "") -> str:
        """`lab pull --verify` the newest release (unless pulled already), then `lab chat --prompt` the question;
        `quant`: the GGUF type to fetch from the -GGUF twin."""
        from sandbox.demo.leaves import HUB_REPO

        where = ["--endpoint", self.hub.url, "--cache-dir", str(self.world.work / "consumer-cache")]
        which = ["--quant", quant] if quant else []
        if pull:
            pulled = self.lab("pull", HUB_REPO, "--format", fmt, *which, "--verify", *where)
            last = (pulled.strip().splitlines() or [""])[-1]
            self.world.timeline.note(f"$ lab pull {' '.join([HUB_REPO, '--format', fmt, *which, '--verify'])}\n{last}")
        return self.chat(HUB_REPO, question, fmt, *which, *where)

    def chat(self, model: str, question: str, fmt: str, *where: str) -> str:
        """`lab chat MODEL --prompt QUESTION`: one answer, greedy, bounded."""
        tokens = "64" if self.world.options.real else "32"
        return self.lab("chat", model, "--format", fmt, *where, "--prompt", question, "--max-tokens", tokens).strip()

    def lab(self, *args: str) -> str:
        """Run the consumer's `lab` with the Hub stand-in's settings; its stdout, or an error with its output."""
        done = subprocess.run([sys.executable, "-m", "lab.cli", *args], env=self.lab_env(), capture_output=True,
                              text=True, timeout=PULL_TIMEOUT_S)
        if done.returncode != 0:
            raise RuntimeError(f"lab {args[0]} failed: {(done.stderr or done.stdout)[-800:]}")
        return done.stdout


def start(world: World) -> Stack:
    """The Hub and GitHub stand-ins in this process, then the bot and a worker as child processes."""
    from sandbox.demo.github_side import GitHubSide
    from sandbox.demo.leaves import CONTRIBUTOR, MAINTAINER
    from sandbox.demo.world import TAXONOMY
    from sandbox.standins.hub import HubStandIn

    hub_token = "hf_demo_" + secrets.token_hex(8)
    signing_key, public_key = _release_key(world.work)
    hub = HubStandIn(token=hub_token).start()
    world.procs.on_close(hub.stop)
    secret = secrets.token_hex(16)
    github = GitHubSide.start(world, TAXONOMY, INSTALLATION_ID, secret)
    github.add_collaborator(MAINTAINER, "maintain")
    github.add_collaborator(CONTRIBUTOR, "read")
    data_dir = world.work / "arborist-data"
    data_dir.mkdir(parents=True, exist_ok=True)
    env = _service_env(world, github, secret, data_dir, signing_key)
    env.update({"HF_ENDPOINT": hub.url, "HF_TOKEN": hub_token})
    if world.options.ray:  # the same story, every job a Ray job (settings only)
        from sandbox.demo.ray_mode import ray_settings

        env.update(ray_settings(world, env))
    bot_url, pids = _start_bot_and_worker(world, env)
    github.webhook_url = f"{bot_url}/webhook"
    (world.options.out / "services.json").write_text(json.dumps(
        {"github": github.url, "hub": hub.url, "bot": bot_url, "data_dir": str(data_dir), "pids": pids},
        indent=2) + "\n")
    return Stack(world, github, hub, hub_token, bot_url, data_dir, env, public_key)


def _service_env(world: World, github: GitHubSide, secret: str, data_dir: Path, signing_key: Path) -> dict[str, str]:
    """The bot's and the worker's environment: this one, plus every ARBORIST_* setting the story needs."""
    key_path = world.work / "app-key.pem"
    key_path.write_bytes(github.private_key_pem)
    key_path.chmod(0o600)
    train_config = world.work / "train.yaml"
    train_config.write_text(world.models.train_config)
    threads, why = cpu_threads()
    world.timeline.note(why)
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
        "ARBORIST_TEACHER": world.models.teacher,
        "ARBORIST_BASE_MODEL": world.models.student,
        "ARBORIST_TRAIN_CONFIG": str(train_config),
        KEY_ENV: str(signing_key),  # the worker signs each release; consumers pin the public key
        "HF_HUB_DISABLE_XET": "1",
        "HF_HUB_DISABLE_PROGRESS_BARS": "1",
        "HF_HOME": str(world.work / "worker-hf"),
        "TOKENIZERS_PARALLELISM": "false",
        "OMP_NUM_THREADS": str(threads),
    }
    if "docs_mirror" in world.state:  # knowledge documents: the https URL in the leaf, served from disk
        local, public = world.state["docs_mirror"]
        env["ARBORIST_DOCS_MIRRORS"] = f"{public}={local}"  # the operator's mirror setting (lab.generate.documents)
    return env


def _start_bot_and_worker(world: World, env: dict[str, str]) -> tuple[str, dict[str, int]]:
    """`arborist serve` on a free loopback port (waited for) and `arborist worker`; the bot's URL and the pids."""
    port = free_port()
    arborist = [sys.executable, "-m", "bot.cli"]
    bot = world.procs.start("bot", [*arborist, "serve", "--host", LOOPBACK, "--port", str(port)], env)
    try:
        wait_for_port(port, START_TIMEOUT_S, bot.alive)
    except (RuntimeError, TimeoutError) as exc:
        raise RuntimeError(f"the bot did not start ({exc}); its log ends:\n{bot.log_tail()}") from None
    worker = world.procs.start("worker", [*arborist, "worker"], env)
    return f"http://{LOOPBACK}:{port}", {"bot": bot.proc.pid, "worker": worker.proc.pid}


def _release_key(work: Path) -> tuple[Path, str]:
    """A fresh Ed25519 release-signing key for this demo: (private PEM file, public key as base64 raw bytes)."""
    from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
    from cryptography.hazmat.primitives.serialization import (
        Encoding,
        NoEncryption,
        PrivateFormat,
        PublicFormat,
    )

    key = Ed25519PrivateKey.generate()
    path = work / "release-signing-key.pem"
    path.write_bytes(key.private_bytes(Encoding.PEM, PrivateFormat.PKCS8, NoEncryption()))
    path.chmod(0o600)
    public = key.public_key().public_bytes(Encoding.Raw, PublicFormat.Raw)
    return path, base64.b64encode(public).decode()
