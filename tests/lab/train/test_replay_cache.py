"""Self-replay answers are generated once per base model, prompts and bound, then read from the cache."""

from __future__ import annotations

import json
import shutil

from lab.train.config import TrainConfig
from lab.train.replay import read_cached_replay, replay_key, write_cached_replay
from lab.train.trainer import REPLAY_FILE, RunOptions, train

CONFIG = TrainConfig(method="lora", max_steps=1, self_replay=3, self_replay_max_new_tokens=8, heldout_share=0.0,
                     max_seq_len=128, max_tokens_per_micro_batch=256, knowledge_epochs=1, skills_epochs=1)


def _train(data_dir, base, out) -> list[str]:
    lines: list[str] = []
    train(data_dir, str(base), out, CONFIG, RunOptions(progress=False, log=lines.append))
    return [line for line in lines if line.startswith("self-replay:")]


def test_a_second_run_over_the_same_base_reads_the_answers_from_the_cache(tiny_llama_dir, data_dir, tmp_path):
    first = _train(data_dir, tiny_llama_dir, tmp_path / "one")
    second = _train(data_dir, tiny_llama_dir, tmp_path / "two")
    assert first and "answers 3 general prompts" in first[0]
    assert second and "from the cache" in second[0]
    assert (tmp_path / "one" / REPLAY_FILE).read_bytes() == (tmp_path / "two" / REPLAY_FILE).read_bytes()


def test_other_weights_prompts_or_bounds_are_other_keys(tiny_llama_dir, tmp_path):
    copy = tmp_path / "copy"
    shutil.copytree(tiny_llama_dir, copy)
    key = replay_key(copy, ["Say hi."], "system", 8)
    assert key == replay_key(tiny_llama_dir, ["Say hi."], "system", 8)  # content, not the folder's name
    assert key != replay_key(copy, ["Say hello."], "system", 8)
    assert key != replay_key(copy, ["Say hi."], None, 8)
    assert key != replay_key(copy, ["Say hi."], "system", 9)
    config = json.loads((copy / "config.json").read_text())
    (copy / "config.json").write_text(json.dumps(config | {"rms_norm_eps": 1e-3}))
    assert replay_key(copy, ["Say hi."], "system", 8) != key
    assert replay_key("org/not-a-local-folder", ["Say hi."], "system", 8) is None


def test_the_cache_round_trips_and_a_missing_key_is_none(tmp_path):
    records = [{"messages": [{"role": "user", "content": "Hi"}, {"role": "assistant", "content": "Hello."}]}]
    write_cached_replay(tmp_path, "abc", records)
    assert read_cached_replay(tmp_path, "abc") == records
    assert read_cached_replay(tmp_path, "def") is None
    assert read_cached_replay(tmp_path, None) is None
    assert not list(tmp_path.glob(".*.tmp"))
