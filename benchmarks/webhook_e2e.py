"""End to end: PR opened -> check run completed on the GitHub stand-in, for 1 and 10 changed leaves.

`arborist serve` runs as its own process (the real entry point, App auth and the PyGithub
adapter); the stand-in runs here, seeded with a fresh branch and PR per delivery. For each
delivery we time POST -> check run completed, and sum the stand-in's own handling time of the
requests that delivery caused ("GitHub's latency" on loopback); ours = total - GitHub's.
Side by side, the baseline is lab.taxonomy.validate_files on the same files in-process: the
validation work alone, with no GitHub in the loop.

    .venv/bin/python benchmarks/webhook_e2e.py [--prs 15]
"""

from __future__ import annotations

import argparse
import hashlib
import hmac
import json
import os
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import httpx

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from sandbox.standins.github import GitHubState, make_app_key, serve_in_thread  # noqa: E402
from tests.bot.taxonomy_data import ATTRIBUTION, valid_skill  # noqa: E402

SECRET = b"bench-secret"
REPO = "octo/taxonomy"


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _leaves(tag: str, count: int) -> dict[str, str]:
    files = {}
    for i in range(count):
        folder = f"compositional_skills/bench/{tag}/leaf{i}"
        files[f"{folder}/qna.yaml"] = valid_skill().replace("Rewrite formal sentences", f"Rewrite formal text {tag} {i}")
        files[f"{folder}/attribution.txt"] = ATTRIBUTION
    return files


def _payload(state: GitHubState, number: int, branch: str) -> bytes:
    return json.dumps({
        "action": "opened", "number": number, "installation": {"id": 1}, "repository": {"full_name": REPO},
        "pull_request": {"number": number, "state": "open", "draft": False, "user": {"login": "bench"},
                         "head": {"sha": state.head_sha(REPO, branch), "ref": branch},
                         "base": {"sha": state.head_sha(REPO, "main"), "ref": "main"}}}).encode()


def _baseline_ms(files: dict[str, str]) -> float:
    from lab.taxonomy import validate_files

    data = {p: v.encode() for p, v in files.items()}
    started = time.perf_counter()
    validate_files([p for p in data if p.endswith("qna.yaml")], data.get)
    return (time.perf_counter() - started) * 1000


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--prs", type=int, default=15, help="PRs per size (medians over these)")
    args = parser.parse_args()
    private, public = make_app_key()
    state = GitHubState(app_id=7, public_key_pem=public)
    state.add_installation(1)
    state.add_repo(REPO, files={"README.md": "# bench\n"})
    standin = serve_in_thread(state)
    port = _free_port()
    with tempfile.TemporaryDirectory() as tmp:
        key = Path(tmp) / "app.pem"
        key.write_text(private)
        env = {**os.environ, "ARBORIST_GITHUB_URL": standin.base_url, "ARBORIST_APP_ID": "7",
               "ARBORIST_PRIVATE_KEY_FILE": str(key), "ARBORIST_WEBHOOK_SECRET": SECRET.decode(),
               "ARBORIST_DATA_DIR": str(Path(tmp) / "data")}
        server = subprocess.Popen([sys.executable, "-m", "bot.cli", "serve", "--port", str(port), "--log-level",
                                   "warning"], cwd=ROOT, env=env)
        try:
            client = httpx.Client(base_url=f"http://127.0.0.1:{port}", timeout=30)
            deadline = time.time() + 60
            while True:
                try:
                    client.get("/healthz")
                    break
                except httpx.TransportError:
                    if time.time() > deadline:
                        raise
                    time.sleep(0.1)
            rows = []
            for size in (1, 10):
                totals, githubs, ours, baselines, calls = [], [], [], [], []
                for i in range(args.prs + 1):  # the first one warms up (token exchange, imports)
                    branch = f"bench-{size}-{i}"
                    files = _leaves(f"s{size}p{i}", size)
                    state.commit(REPO, branch, files, base="main")
                    number = state.open_pull(REPO, branch, author="bench")
                    head = state.head_sha(REPO, branch)
                    body = _payload(state, number, branch)
                    first_log = len(state.log)
                    signature = "sha256=" + hmac.new(SECRET, body, hashlib.sha256).hexdigest()
                    started = time.perf_counter()
                    client.post("/webhook", content=body, headers={
                        "Content-Type": "application/json", "X-GitHub-Event": "pull_request",
                        "X-GitHub-Delivery": f"bench-{size}-{i}", "X-Hub-Signature-256": signature})
                    ok = state.wait_until(lambda s, h=head: any(r["status"] == "completed" for r in s.check_runs(REPO, h)))
                    total = (time.perf_counter() - started) * 1000
                    if not ok:
                        raise RuntimeError(f"no completed check run for {branch}")
                    state.wait_until(lambda s, n=number: bool(s.labels(REPO, n)), timeout=10)
                    with state.lock:
                        mine = state.log[first_log:]
                    github_ms = sum(e["ms"] for e in mine)
                    if i == 0:
                        continue
                    totals.append(total)
                    githubs.append(github_ms)
                    ours.append(total - github_ms)
                    calls.append(len(mine))
                    baselines.append(_baseline_ms(files))
                rows.append((size, statistics.median(baselines), statistics.median(totals), statistics.median(githubs),
                             statistics.median(ours), max(ours), statistics.median(calls)))
                print(f"{size:2d} leaves: e2e median {rows[-1][2]:.1f} ms", flush=True)
        finally:
            server.terminate()
            server.wait(timeout=30)
            standin.stop()
    print(f"\n{args.prs} PRs per size (after one warm-up), medians")
    print("| leaves | baseline: validate_files ms | e2e: POST -> check completed ms | stand-in's own ms | "
          "ours = e2e - stand-in, median (max) ms | API calls |")
    print("| ---: | ---: | ---: | ---: | ---: | ---: |")
    for size, base, total, github, our, our_max, ncalls in rows:
        print(f"| {size} | {base:.1f} | {total:.1f} | {github:.1f} | {our:.1f} ({our_max:.1f}) | {ncalls:.0f} |")
    return 0


if __name__ == "__main__":
    sys.exit(main())
