"""An HTTP teacher gets one deadline per request and a reply-size cap: silence, drips and floods end in a reason."""

from __future__ import annotations

import json

import pytest

from lab.generate import GenerateParams, generate_leaves
from lab.generate.backends.openai_http import OpenAIBackend

from .hostile_teacher import (
    HostileTeacher,
    drip_body,
    drip_headers,
    huge_chunked,
    huge_declared,
    silent,
    timed,
)

DEADLINE_S = 0.6


def teacher(url: str, **kw) -> OpenAIBackend:
    """Per-try timeout far above the deadline: only the overall deadline can end these requests."""
    options = {"model": "m", "context_length": 2048, "timeout_s": 30.0, "deadline_s": DEADLINE_S,
               "max_retries": 4, "backoff_s": 0.01, "concurrency": 2, **kw}
    return OpenAIBackend(url, **options)


@pytest.mark.parametrize("behaviour", [silent, drip_body, drip_headers], ids=["silent", "drip-body", "drip-headers"])
def test_a_server_that_never_finishes_costs_one_deadline_and_gives_a_reason(behaviour):
    with HostileTeacher(behaviour) as server:
        backend = teacher(server.url)
        replies, seconds = timed(lambda: backend.complete(["a", "b"], max_new_tokens=5, temperature=0, seed=0))
        backend.close()
    assert seconds < DEADLINE_S + 1.0  # both requests in parallel, each bounded by the deadline
    for reply in replies:
        assert reply.finish_reason == "error" and reply.text == ""
        assert f"within the {DEADLINE_S:g} s deadline" in reply.error and "last: timed out" in reply.error


def test_a_slow_try_is_retried_inside_the_deadline():
    with HostileTeacher(drip_body) as server:
        backend = teacher(server.url, timeout_s=0.2, deadline_s=1.0, concurrency=1)
        [reply], seconds = timed(lambda: backend.complete(["a"], max_new_tokens=5, temperature=0, seed=0))
        backend.close()
    assert server.connections >= 2 and seconds < 2.0  # several short tries, one overall deadline
    assert "deadline" in reply.error


@pytest.mark.parametrize("behaviour", [huge_declared, huge_chunked], ids=["content-length", "chunked"])
def test_an_oversized_reply_is_refused_once_and_not_retried(behaviour):
    with HostileTeacher(behaviour) as server:
        backend = teacher(server.url, max_reply_bytes=256 * 1024, deadline_s=10.0, concurrency=1)
        [reply], seconds = timed(lambda: backend.complete(["a"], max_new_tokens=5, temperature=0, seed=0))
        backend.close()
    assert server.connections == 1 and seconds < 3.0
    assert "262144-byte cap" in reply.error and reply.text == ""


def test_a_silent_teacher_fails_the_leaf_with_the_reason_in_the_manifest(freeform_leaf, tmp_path):
    with HostileTeacher(silent) as server:
        backend = teacher(server.url, deadline_s=0.3, concurrency=4)
        params = GenerateParams(samples=2, batch_size=4)
        manifest, seconds = timed(lambda: generate_leaves([freeform_leaf], backend, tmp_path / "out", params,
                                                          cache_dir=tmp_path / "cache"))
        backend.close()
    [leaf] = manifest.leaves
    assert leaf.status == "failed" and "deadline" in leaf.message and leaf.rows == 0
    written = json.loads((tmp_path / "out" / "manifest.json").read_text())
    assert written["leaves"][0]["status"] == "failed" and "deadline" in written["leaves"][0]["message"]
    assert seconds < 15  # bounded by the deadline per request, not by 120 s reads
