"""Webhook intake: throughput, p50/p99 latency to the 2xx, and server RSS, baseline vs Arborist.

baseline: a bare FastAPI endpoint that verifies X-Hub-Signature-256 and answers 200 (no dedupe,
          no queue): the least any signed endpoint does.
arborist-intake: the real app with no handler routed: signature, checks and the durable record only.
arborist: the real app (bot.server.create_app): signature, content-type and JSON checks, durable
          SQLite dedupe of X-GitHub-Delivery, and hand-off to the worker thread, which handles every
          delivery (a no-op handler) and marks it done.

Each server runs in its own process under uvicorn on 127.0.0.1; one keep-alive client sends N
signed deliveries (a real `push` example payload when the corpus is there) with unique ids.

    .venv/bin/python benchmarks/webhook_intake.py [--requests 10000] [--rounds 3]
"""

from __future__ import annotations

import argparse
import hashlib
import hmac
import http.client
import json
import os
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
SECRET = b"bench-secret"
FIXTURES = Path(os.environ.get("ARBORIST_FIXTURES", ROOT.parent / "shared" / "fixtures"))
PAYLOAD = FIXTURES / "github-webhooks" / "payload-examples" / "api.github.com" / "push" / "with-installation.payload.json"


def noop(event, ctx) -> None:
    """The benchmark's handler: intake and bookkeeping are what is measured."""


def _baseline_app():
    from fastapi import FastAPI
    from starlette.requests import Request
    from starlette.responses import JSONResponse

    app = FastAPI()

    async def webhook(request: Request):
        body = await request.body()
        expected = "sha256=" + hmac.new(SECRET, body, hashlib.sha256).hexdigest()
        if not hmac.compare_digest(expected, request.headers.get("x-hub-signature-256", "")):
            return JSONResponse({"error": "bad signature"}, status_code=401)
        return JSONResponse({"ok": True})

    app.router.add_route("/webhook", webhook, methods=["POST"])
    return app


def _arborist_app(data_dir: str, handle: bool = True):
    from bot.router import Router
    from bot.server import create_app
    from bot.settings import AppSettings
    from sandbox.fakes.github import FakeGitHub

    sys.path.insert(0, str(ROOT))
    router = Router()
    if handle:
        router.register("push")(noop)
    fake = FakeGitHub()
    return create_app(AppSettings(webhook_secret=SECRET, data_dir=Path(data_dir)), lambda i: fake, router=router)


def serve(mode: str, port: int, data_dir: str) -> None:
    import uvicorn

    app = _baseline_app() if mode == "baseline" else _arborist_app(data_dir, handle=mode != "arborist-intake")
    uvicorn.run(app, host="127.0.0.1", port=port, log_level="warning", access_log=False)


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class RawClient:
    """A minimal keep-alive HTTP/1.1 client: one sendall per request, TCP_NODELAY, so the client costs little."""

    def __init__(self, port: int):
        self.sock = socket.create_connection(("127.0.0.1", port), timeout=10)
        self.sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        self.buf = b""

    def post(self, headers: dict[str, str], body: bytes) -> int:
        head = "".join(f"{k}: {v}\r\n" for k, v in headers.items())
        self.sock.sendall(f"POST /webhook HTTP/1.1\r\nHost: bench\r\nContent-Length: {len(body)}\r\n{head}\r\n".encode()
                          + body)
        while b"\r\n\r\n" not in self.buf:
            self.buf += self.sock.recv(65536)
        header, _, rest = self.buf.partition(b"\r\n\r\n")
        length = 0
        for line in header.split(b"\r\n")[1:]:
            name, _, value = line.partition(b":")
            if name.strip().lower() == b"content-length":
                length = int(value)
        while len(rest) < length:
            rest += self.sock.recv(65536)
        self.buf = rest[length:]
        return int(header.split(b" ", 2)[1])


def _rss_kb(pid: int) -> int:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1])
    return 0


def _payload() -> bytes:
    if PAYLOAD.is_file():
        return PAYLOAD.read_bytes()
    return json.dumps({"ref": "refs/heads/main", "installation": {"id": 1}, "repository": {"full_name": "o/r"},
                       "commits": [{"id": "a" * 40, "message": "x" * 200}] * 5}).encode()


def run_load(mode: str, n: int, tag: str) -> dict:
    port = _free_port()
    with tempfile.TemporaryDirectory() as data_dir:
        proc = subprocess.Popen([sys.executable, __file__, "--serve", mode, str(port), data_dir], cwd=ROOT)
        try:
            deadline = time.time() + 30
            while True:
                try:
                    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
                    conn.request("GET", "/nope" if mode == "baseline" else "/healthz")
                    conn.getresponse().read()
                    break
                except OSError:
                    if time.time() > deadline:
                        raise
                    time.sleep(0.1)
            body = _payload()
            signature = "sha256=" + hmac.new(SECRET, body, hashlib.sha256).hexdigest()
            conn.close()
            client = RawClient(port)
            rss_start = _rss_kb(proc.pid)
            latencies, rss_samples = [], []
            started = time.perf_counter()
            for i in range(n):
                headers = {"Content-Type": "application/json", "X-GitHub-Event": "push",
                           "X-GitHub-Delivery": f"{tag}-{i}", "X-Hub-Signature-256": signature}
                t0 = time.perf_counter()
                status = client.post(headers, body)
                latencies.append(time.perf_counter() - t0)
                if status >= 300:
                    raise RuntimeError(f"{mode}: delivery {i} answered {status}")
                if i % 1000 == 999:
                    rss_samples.append(_rss_kb(proc.pid))
            elapsed = time.perf_counter() - started
            time.sleep(1.0)  # let the worker finish
            rss_end = _rss_kb(proc.pid)
        finally:
            proc.terminate()
            proc.wait(timeout=30)
    latencies.sort()
    return {"mode": mode, "rps": n / elapsed, "p50_ms": latencies[len(latencies) // 2] * 1000,
            "p99_ms": latencies[int(len(latencies) * 0.99)] * 1000, "rss_start_mb": rss_start / 1024,
            "rss_end_mb": rss_end / 1024, "rss_samples_mb": [round(s / 1024, 1) for s in rss_samples],
            "payload_bytes": len(body)}


def main() -> int:
    if len(sys.argv) > 1 and sys.argv[1] == "--serve":
        serve(sys.argv[2], int(sys.argv[3]), sys.argv[4])
        return 0
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--requests", type=int, default=10_000)
    parser.add_argument("--rounds", type=int, default=3)
    args = parser.parse_args()
    results: dict[str, list[dict]] = {"baseline": [], "arborist-intake": [], "arborist": []}
    for r in range(args.rounds):
        for mode in results:
            res = run_load(mode, args.requests, f"r{r}")
            results[mode].append(res)
            print(f"round {r + 1} {mode:15s}: {res['rps']:7.0f} deliveries/s  p50 {res['p50_ms']:.2f} ms  "
                  f"p99 {res['p99_ms']:.2f} ms  RSS {res['rss_start_mb']:.1f} -> {res['rss_end_mb']:.1f} MB "
                  f"(every 1000: {res['rss_samples_mb']})", flush=True)
    med = {m: {k: statistics.median(r[k] for r in rs) for k in ("rps", "p50_ms", "p99_ms", "rss_end_mb")}
           for m, rs in results.items()}
    print(f"\npayload {results['arborist'][0]['payload_bytes']} bytes, {args.requests} deliveries x {args.rounds} rounds")
    print("| server | deliveries/s | p50 ms | p99 ms | RSS after MB |")
    print("| --- | ---: | ---: | ---: | ---: |")
    for mode, m in med.items():
        print(f"| {mode} | {m['rps']:.0f} | {m['p50_ms']:.2f} | {m['p99_ms']:.2f} | {m['rss_end_mb']:.1f} |")
    print(f"arborist / baseline throughput: {med['arborist']['rps'] / med['baseline']['rps']:.2f}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
