"""Hostile teacher servers on loopback, at the socket level: silent, dripping, oversized, key-echoing."""

from __future__ import annotations

import json
import socket
import socketserver
import threading
import time
from collections.abc import Callable

Behaviour = Callable[[socket.socket, threading.Event], None]
DRIP_S = 0.02  # seconds between dripped bytes


def _read_request(sock: socket.socket) -> bytes:
    """Read one request (headers and a Content-Length body) so the client is done sending."""
    data = b""
    while b"\r\n\r\n" not in data:
        chunk = sock.recv(65536)
        if not chunk:
            return data
        data += chunk
    head, _, body = data.partition(b"\r\n\r\n")
    length = next((int(line.split(b":")[1]) for line in head.split(b"\r\n") if line.lower().startswith(b"content-length")), 0)
    while len(body) < length:
        chunk = sock.recv(65536)
        if not chunk:
            break
        body += chunk
    return head + b"\r\n\r\n" + body


def silent(sock: socket.socket, stop: threading.Event) -> None:
    _read_request(sock)
    stop.wait(30)


def drip_body(sock: socket.socket, stop: threading.Event) -> None:
    _read_request(sock)
    sock.sendall(b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nTransfer-Encoding: chunked\r\n\r\n")
    while not stop.wait(DRIP_S):
        sock.sendall(b"1\r\n \r\n")


def drip_headers(sock: socket.socket, stop: threading.Event) -> None:
    _read_request(sock)
    sock.sendall(b"HTTP/1.1 200 OK\r\n")
    while not stop.wait(DRIP_S):
        sock.sendall(b"X")


def huge_declared(sock: socket.socket, stop: threading.Event) -> None:
    _read_request(sock)
    sock.sendall(b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: 5000000000\r\n\r\n")
    stop.wait(30)


def huge_chunked(sock: socket.socket, stop: threading.Event) -> None:
    _read_request(sock)
    sock.sendall(b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nTransfer-Encoding: chunked\r\n\r\n")
    piece = b"x" * 65536
    while not stop.is_set():
        sock.sendall(b"%x\r\n%s\r\n" % (len(piece), piece))


def echo_key(sock: socket.socket, stop: threading.Event) -> None:
    """A careless server: its 401 error quotes the Authorization header it was sent."""
    request = _read_request(sock).decode("latin-1")
    auth = next((line for line in request.split("\r\n") if line.lower().startswith("authorization")), "")
    body = json.dumps({"error": {"message": f"invalid credentials: {auth}"}}).encode()
    sock.sendall(b"HTTP/1.1 401 Unauthorized\r\nContent-Type: application/json\r\nContent-Length: %d\r\n"
                 b"Connection: close\r\n\r\n%s" % (len(body), body))


class HostileTeacher:
    """A TCP server on 127.0.0.1 that treats every connection with `behaviour`; counts connections."""

    def __init__(self, behaviour: Behaviour) -> None:
        self.stop = threading.Event()
        self.connections = 0
        outer = self

        class Handler(socketserver.BaseRequestHandler):
            def handle(self) -> None:
                outer.connections += 1
                try:
                    behaviour(self.request, outer.stop)
                except OSError:
                    pass  # the client hung up: what a deadline is for

        self.server = socketserver.ThreadingTCPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/v1"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    def __enter__(self) -> HostileTeacher:
        self.thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop.set()
        self.server.shutdown()
        self.server.server_close()


def timed(fn: Callable[[], object]) -> tuple[object, float]:
    started = time.perf_counter()
    value = fn()
    return value, time.perf_counter() - started
