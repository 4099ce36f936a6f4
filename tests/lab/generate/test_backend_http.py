"""The OpenAI-compatible backend against a local stub server: retries, timeouts, concurrency, guided JSON."""

from __future__ import annotations

import json
import time

from lab.generate import GenerateParams, generate_leaves
from lab.generate.backends.openai_http import OpenAIBackend
from lab.generate.prompts import QUESTION_SCHEMA

from .stub_server import StubServer, chat_reply

OK = '{"question": "What is a synonym for glad?"}'


def backend(url, **kw):
    return OpenAIBackend(url, backoff_s=0.01, **{"timeout_s": 2.0, **kw})


def test_asks_for_guided_json_with_the_stage_schema_and_reads_usage():
    with StubServer(lambda body, i: (200, chat_reply(OK, 11, 7), {}, 0)) as stub:
        teacher = backend(stub.url, api_key="sk-test-secret")
        [done] = teacher.complete(["hi"], max_new_tokens=30, temperature=0.5, seed=42, schema=QUESTION_SCHEMA)
        assert done.text == OK and done.prompt_tokens == 11 and done.completion_tokens == 7
        sent = stub.requests[0]
        assert sent["model"] == "stub-model" and sent["seed"] == 42 and sent["max_tokens"] == 30
        assert sent["response_format"]["json_schema"]["schema"] == QUESTION_SCHEMA
        assert stub.headers[0]["Authorization"] == "Bearer sk-test-secret"
        assert teacher.context_length == 2048 and "sk-test" not in teacher.teacher_id
        teacher = backend(stub.url, guided="guided_json", model="m", context_length=512)
        teacher.complete(["hi"], max_new_tokens=5, temperature=0.0, seed=0, schema=QUESTION_SCHEMA)
        assert stub.requests[-1]["guided_json"] == QUESTION_SCHEMA and "response_format" not in stub.requests[-1]


def test_429_and_5xx_are_retried_then_succeed():
    script = {0: (429, {"error": "slow down"}, {"Retry-After": "0"}, 0), 1: (503, "oops", {}, 0),
              2: (500, {"error": "x"}, {}, 0)}
    with StubServer(lambda body, i: script.get(i, (200, chat_reply(OK), {}, 0))) as stub:
        [done] = backend(stub.url, concurrency=1).complete(["hi"], max_new_tokens=5, temperature=0, seed=0)
        assert done.error is None and done.text == OK and len(stub.requests) == 4


def test_malformed_json_and_timeouts_are_retried():
    script = {0: (200, "{not json", {}, 0), 1: (200, {"choices": []}, {}, 0), 2: (200, chat_reply(OK), {}, 1.5)}
    with StubServer(lambda body, i: script.get(i, (200, chat_reply(OK), {}, 0))) as stub:
        [done] = backend(stub.url, timeout_s=0.5, concurrency=1).complete(
            ["hi"], max_new_tokens=5, temperature=0, seed=0)
        assert done.error is None and done.text == OK and len(stub.requests) == 4


def test_persistent_failure_becomes_a_counted_error_and_4xx_is_not_retried():
    with StubServer(lambda body, i: (503, {"error": "down"}, {}, 0)) as stub:
        [done] = backend(stub.url, max_retries=2).complete(["hi"], max_new_tokens=5, temperature=0, seed=0)
        assert done.error == "gave up after 3 attempts: HTTP 503" and len(stub.requests) == 3
    with StubServer(lambda body, i: (400, {"error": "bad schema"}, {}, 0)) as stub:
        [done] = backend(stub.url).complete(["hi"], max_new_tokens=5, temperature=0, seed=0)
        assert done.error.startswith("HTTP 400") and len(stub.requests) == 1


def test_several_requests_are_in_flight_and_results_keep_prompt_order():
    def slow_echo(body, i):
        return 200, chat_reply(json.dumps({"question": body["messages"][0]["content"]})), {}, 0.2

    with StubServer(slow_echo) as stub:
        teacher = backend(stub.url, concurrency=8)
        started = time.perf_counter()
        out = teacher.complete([f"prompt {i}" for i in range(8)], max_new_tokens=5, temperature=0, seed=0)
        elapsed = time.perf_counter() - started
        assert [json.loads(c.text)["question"] for c in out] == [f"prompt {i}" for i in range(8)]
        assert stub.max_in_flight >= 4 and elapsed < 1.5  # 8 x 0.2 s one at a time takes at least 1.6 s


def test_http_teacher_drives_a_whole_leaf(freeform_leaf, tmp_path):
    words = ["What word could replace glad here?", "Suggest a synonym of swift.", "Huge means what, in other words?",
             "Is petite similar to tiny?", "Name words close to calm.", "List alternatives for brave.",
             "Which term matches eager?", "Tell me another way to say quiet.", "bright: give a synonym",
             "Find a replacement for sharp."]

    def answer(body, i):
        schema = body["response_format"]["json_schema"]["schema"]
        if schema["title"] == "question":
            return 200, chat_reply(json.dumps({"question": words[i % 10]})), {}, 0
        return 200, chat_reply(json.dumps({"answer": "Here is one."})), {}, 0

    with StubServer(answer) as stub:
        manifest = generate_leaves([freeform_leaf], backend(stub.url), tmp_path / "out", GenerateParams(samples=3),
                                   cache_dir=tmp_path / "c")
    assert manifest.leaves[0].status == "ok" and manifest.leaves[0].rows == 3
    assert manifest.teacher.startswith("http:127.0.0.1:")


def test_lab_generate_with_a_server_teacher_uses_the_named_model_and_parallel_requests(tmp_path, capsys):
    from lab.cli import main

    from .conftest import FREEFORM

    leaf = tmp_path / "tax" / "compositional_skills" / "synonyms" / "qna.yaml"
    leaf.parent.mkdir(parents=True)
    leaf.write_bytes(FREEFORM)
    counter = iter(range(10_000))

    def answer(body, i):
        title = body["response_format"]["json_schema"]["schema"]["title"]
        n = next(counter)
        text = {"question": f"Word {n}: which synonym fits {'abcdefghijklmnopqrstuvwxyz'[n % 26] * (n + 3)}?"} \
            if title == "question" else {"answer": f"Answer {n}."}
        return 200, chat_reply(json.dumps(text)), {}, 0.05

    with StubServer(answer) as stub:
        code = main(["generate", str(leaf), "--teacher", stub.url, "--model", "big-teacher", "--parallel", "4",
                     "--samples", "4", "--no-validate", "--quiet", "--out", str(tmp_path / "out"),
                     "--cache-dir", str(tmp_path / "cache")])
    assert code == 0, capsys.readouterr()
    assert {r["model"] for r in stub.requests} == {"big-teacher"}
    assert stub.max_in_flight >= 2
    assert len((tmp_path / "out" / "skills_train_msgs.jsonl").read_text().splitlines()) == 4
