"""`lab chat` asks a model in the format it was trained in, and opens every kind of release `lab pull` accepts."""

from __future__ import annotations

import pytest

from lab.cli import main as lab_main
from lab.publish import DirectoryTarget, ReleaseInfo, publish_release


class Recorder:
    def __init__(self):
        self.seen: list[list[dict]] = []

    def reply(self, messages):
        self.seen.append([dict(m) for m in messages])
        return "ok"


@pytest.fixture()
def recorder(monkeypatch):
    backend = Recorder()
    monkeypatch.setattr("lab.consume.chat.open_backend", lambda *args, **kwargs: backend)
    return backend


def test_chat_opens_with_the_system_prompt_that_training_and_evaluation_use(recorder, tmp_path, capsys):
    from lab.evaluate.items import prompt_messages
    from lab.taxonomy.leaf import leaf_from_yaml

    question = "What is the tallest tree?"
    assert lab_main(["chat", str(tmp_path), "--prompt", question]) == 0
    leaf = leaf_from_yaml("compositional_skills/trees/qna.yaml", (
        b"version: 2\ntask_description: trees\ncreated_by: someone\nseed_examples:\n"
        + b"".join(b"  - question: q%d\n    answer: a%d\n" % (i, i) for i in range(5))))
    assert recorder.seen == [prompt_messages(leaf, question, None)]  # what evaluation sends, and training rows hold
    assert recorder.seen[0][0]["role"] == "system" and recorder.seen[0][0]["content"]


def test_chat_system_option_replaces_the_prompt_and_an_empty_one_sends_none(recorder, tmp_path):
    assert lab_main(["chat", str(tmp_path), "--prompt", "hi", "--system", "Be brief."]) == 0
    assert lab_main(["chat", str(tmp_path), "--prompt", "hi", "--system", ""]) == 0
    assert recorder.seen[0][0] == {"role": "system", "content": "Be brief."}
    assert recorder.seen[1] == [{"role": "user", "content": "hi"}]


@pytest.mark.parametrize("fmt", ["gguf", "hf"])
def test_chat_opens_a_dir_release_folder_that_lab_pull_accepts(tiny_llama_dir, tmp_path, capsys, fmt):
    root = tmp_path / "releases-out"
    info = ReleaseInfo(taxonomy_repo="acme/taxonomy", taxonomy_sha="f" * 40, gguf_types=("f16",) if fmt == "gguf" else ())
    publish_release(tiny_llama_dir, DirectoryTarget(root), info)
    assert lab_main(["pull", str(root), "--format", fmt]) == 0
    capsys.readouterr()
    assert lab_main(["chat", str(root), "--format", fmt, "--prompt", "hello", "--max-tokens", "3"]) == 0
    captured = capsys.readouterr()
    assert "Traceback" not in captured.err and captured.out.strip() != ""
