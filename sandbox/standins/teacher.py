"""An OpenAI-compatible teacher server that answers as the scripted teacher: a replica for tests and benchmarks.

`POST /v1/chat/completions` replies with what `ScriptedBackend` would say for the request's messages,
seed and JSON-schema title (the pipeline stage), so every replica gives the same answer to the same
request; `GET /v1/models` names the served model. `latency_s` adds a fixed delay per request and
`capacity` bounds the requests it works on at once, standing for a GPU replica's fixed throughput, so
a benchmark measures the fan-out over replicas, not this machine's CPU.
"""

from __future__ import annotations

import json
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

from lab.generate.backends.scripted import ScriptedBackend

MODEL = "scripted-teacher"
MAX_BODY_BYTES = 4 * 1024 * 1024


def _reply(body: dict[str, Any]) -> dict[str, Any]:
    schema = ((body.get("response_format") or {}).get("json_schema") or {}).get("schema")
    completion = ScriptedBackend().complete([body["messages"]], max_new_tokens=int(body.get("max_tokens", 256)),
                                            temperature=float(body.get("temperature", 0.0)),
                                            seed=int(body.get("seed", 0)), schema=schema)[0]
    return {"id": "scripted", "object": "chat.completion", "model": MODEL,
            "choices": [{"index": 0, "finish_reason": completion.finish_reason,
                         "message": {"role": "assistant", "content": completion.text}}],
            "usage": {"prompt_tokens": completion.prompt_tokens, "completion_tokens": completion.completion_tokens}}


class ScriptedTeacherServer:
    """One replica on a loopback port; `requests` counts what it answered."""

    def __init__(self, latency_s: float = 0.0, capacity: int = 64, host: str = "127.0.0.1") -> None:
        self.latency_s, self.requests = latency_s, 0
        self._lock = threading.Lock()
        self._slots = threading.BoundedSemaphore(max(1, capacity))
        server = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args: Any) -> None:
                pass

            def _send(self, status: int, payload: dict[str, Any]) -> None:
                raw = json.dumps(payload).encode()
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(raw)))
                self.end_headers()
                self.wfile.write(raw)

            def do_GET(self) -> None:
                if self.path.rstrip("/").endswith("/models"):
                    self._send(200, {"object": "list", "data": [{"id": MODEL, "max_model_len": 4096}]})
                else:
                    self._send(404, {"error": "not found"})

            def do_POST(self) -> None:
                length = int(self.headers.get("Content-Length") or 0)
                if not self.path.endswith("/chat/completions") or length > MAX_BODY_BYTES:
                    self._send(404 if length <= MAX_BODY_BYTES else 413, {"error": "refused"})
                    return
                body = json.loads(self.rfile.read(length))
                with server._slots:
                    time.sleep(server.latency_s)
                    reply = _reply(body)
                with server._lock:
                    server.requests += 1
                self._send(200, reply)

        self._http = ThreadingHTTPServer((host, 0), Handler)
        self._http.daemon_threads = True
        self.url = f"http://{host}:{self._http.server_address[1]}/v1"
        self._thread = threading.Thread(target=self._http.serve_forever, daemon=True)

    def __enter__(self) -> ScriptedTeacherServer:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._http.shutdown()
        self._http.server_close()
