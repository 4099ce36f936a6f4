"""Slow and greedy clients cannot hold `arborist serve`: read deadlines, keep-alive and a connection cap.

A real `arborist serve` process on loopback, short timeouts set through its documented settings:
half-sent requests (slow-loris), trickled bodies and idle connections are closed once their deadline
passes, and /healthz keeps answering within a second meanwhile.
"""

from __future__ import annotations

import select
import socket
import time

import pytest

from tests.bot.served import arborist_serve

TIMEOUTS = {"ARBORIST_HEADER_TIMEOUT_S": "1", "ARBORIST_BODY_TIMEOUT_S": "1.5", "ARBORIST_KEEP_ALIVE_S": "1"}


def _connect(served, first_bytes: bytes = b"") -> socket.socket:
    sock = socket.create_connection((served.host, served.port), timeout=5)
    if first_bytes:
        sock.sendall(first_bytes)
    return sock


def _closed_by_server(sock: socket.socket) -> bool:
    """True when the server has closed its end (EOF or reset is readable), without blocking."""
    readable, _, _ = select.select([sock], [], [], 0)
    if not readable:
        return False
    try:
        return sock.recv(65536) == b""  # data first (an error answer) is read now; its EOF comes next
    except (ConnectionResetError, BrokenPipeError):
        return True


def _wait_closed(sockets: list[socket.socket], within: float) -> list[socket.socket]:
    """The sockets still held open by the server after `within` seconds."""
    deadline = time.monotonic() + within
    open_ = list(sockets)
    while open_ and time.monotonic() < deadline:
        open_ = [s for s in open_ if not _closed_by_server(s)]
        time.sleep(0.05)
    return open_


@pytest.mark.slow
def test_slow_loris_is_closed_after_the_header_timeout_and_healthz_keeps_answering(tmp_path):
    with arborist_serve(tmp_path, TIMEOUTS) as served:
        half_sent = [_connect(served, b"POST /webhook HTTP/1.1\r\nHost: arborist\r\nX-GitHub-Event: pu")
                     for _ in range(150)]
        silent = [_connect(served) for _ in range(20)]
        started = time.monotonic()
        slowest = 0.0
        while time.monotonic() - started < 1.2:  # drip one header byte, as a slow-loris does, and ask for /healthz
            for sock in half_sent[:20]:
                try:
                    sock.send(b"l")
                except OSError:
                    pass
            slowest = max(slowest, served.healthz_seconds())
            time.sleep(0.2)
        assert slowest < 1.0
        assert _wait_closed(half_sent + silent, within=3.0) == []
        assert served.healthz_seconds() < 1.0
        for sock in half_sent + silent:
            sock.close()


@pytest.mark.slow
def test_a_trickled_body_and_an_idle_keep_alive_are_closed(tmp_path):
    with arborist_serve(tmp_path, TIMEOUTS) as served:
        trickle = _connect(served, b"POST /webhook HTTP/1.1\r\nHost: a\r\nContent-Type: application/json\r\n"
                                   b"Content-Length: 100000\r\n\r\n{\"a\":")
        keep_alive = _connect(served, b"GET /healthz HTTP/1.1\r\nHost: a\r\n\r\n")
        assert b"200 OK" in keep_alive.recv(4096)
        for _ in range(4):  # a byte every 0.5 s: each read is quick, the body never completes
            trickle.send(b" ")
            time.sleep(0.5)
        assert _wait_closed([trickle, keep_alive], within=2.0) == []
        trickle.close()
        keep_alive.close()


@pytest.mark.slow
def test_connections_beyond_the_cap_drop_the_slowest_and_healthz_still_answers(tmp_path):
    settings = {"ARBORIST_MAX_CONNECTIONS": "40", "ARBORIST_HEADER_TIMEOUT_S": "60"}
    with arborist_serve(tmp_path, settings) as served:
        waves = []
        for _ in range(4):  # waves of connections that never finish their request line
            waves.append([_connect(served, b"GET /") for _ in range(50)])
            time.sleep(0.7)
        idle = [sock for wave in waves for sock in wave]
        assert max(served.healthz_seconds() for _ in range(5)) < 1.0
        still_open = _wait_closed(idle, within=1.0)
        assert len(still_open) <= 40
        assert not set(still_open) & set(waves[0])  # the oldest were dropped for the newer ones
        for sock in idle:
            sock.close()
