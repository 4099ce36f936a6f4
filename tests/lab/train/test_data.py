"""Mixing recipe: phase order, replay share, stacked mode, held-out split, bad input."""

from __future__ import annotations

import pytest

from lab.train.data import load_data_dir, mix_phases, read_messages, replay_count, split_heldout


def _records(n: int, tag: str) -> list[dict]:
    return [{"messages": [{"role": "user", "content": f"{tag} {i}"}, {"role": "assistant", "content": "ok"}]} for i in range(n)]


def test_phased_mix_puts_knowledge_first_and_replays_the_configured_share():
    knowledge, skills = _records(40, "k"), _records(30, "s")
    phases = mix_phases(knowledge, skills, mode="phased", replay_share=0.25, knowledge_epochs=2, skills_epochs=3, seed=1)
    assert [p.name for p in phases] == ["phase1", "phase2"]
    assert list(phases[0].samples) == knowledge and phases[0].epochs == 2
    phase2 = phases[1]
    replayed = [s for s in phase2.samples if s["messages"][0]["content"].startswith("k")]
    assert len(replayed) == phase2.counts["replay"] == 10  # 10 of 40 phase-2 samples = 25 %
    assert len(replayed) / len(phase2.samples) == pytest.approx(0.25)
    assert len({id(s) for s in replayed}) == 10 and phase2.epochs == 3


def test_replay_is_capped_by_available_knowledge_and_zero_share_replays_nothing():
    assert replay_count(100, 5, 0.5) == 5
    assert replay_count(100, 500, 0.0) == 0
    phases = mix_phases([], _records(3, "s"), mode="phased", replay_share=0.5, knowledge_epochs=1, skills_epochs=1, seed=0)
    assert [p.name for p in phases] == ["phase2"] and phases[0].counts["replay"] == 0


def test_stacked_mode_trains_one_phase_on_everything():
    phases = mix_phases(_records(4, "k"), _records(3, "s"), mode="stacked", replay_share=0.2,
                        knowledge_epochs=2, skills_epochs=5, seed=0)
    assert len(phases) == 1 and phases[0].name == "stacked" and len(phases[0].samples) == 7


def test_heldout_split_is_seeded_and_disjoint():
    records = _records(20, "k")
    train_a, held_a = split_heldout(records, 0.2, seed=3)
    train_b, held_b = split_heldout(records, 0.2, seed=3)
    assert held_a == held_b and len(held_a) == 4 and len(train_a) == 16
    assert not {id(r) for r in train_a} & {id(r) for r in held_a}


def test_bad_lines_are_reported_with_their_line_number(tmp_path):
    path = tmp_path / "knowledge_train_msgs.jsonl"
    path.write_text('{"messages": [{"role": "user", "content": "q"}, {"role": "assistant", "content": "a"}]}\n{oops\n')
    with pytest.raises(ValueError, match=r":2: not JSON"):
        read_messages(path)
    path.write_text('{"messages": [{"role": "user", "content": "only a question"}]}\n')
    with pytest.raises(ValueError, match="no assistant message"):
        read_messages(path)
    with pytest.raises(ValueError, match="no knowledge_train_msgs"):
        load_data_dir(tmp_path / "empty")


def test_a_deeply_nested_line_is_refused_with_its_path_and_line_not_a_recursion_error(tmp_path):
    path = tmp_path / "knowledge_train_msgs.jsonl"
    good = '{"messages": [{"role": "user", "content": "q [[{{"}, {"role": "assistant", "content": "a"}]}\n'
    path.write_text(good + "[" * 100_000 + "]" * 100_000 + "\n")
    with pytest.raises(ValueError, match=rf"{path.name}:2: JSON nested deeper than"):
        read_messages(path)
    path.write_text(good)  # brackets inside strings do not count
    assert len(read_messages(path)) == 1


def test_a_binary_file_is_refused_with_its_path_and_line(tmp_path):
    path = tmp_path / "skills_train_msgs.jsonl"
    path.write_bytes(b"\n\x89PNG\r\n\x1a\n\xff\xfe\x00\x01binary")
    with pytest.raises(ValueError, match=rf"{path}:2: not UTF-8 text"):
        read_messages(path)


def test_lab_train_on_hostile_data_prints_one_line_naming_the_file(tmp_path, capsys):
    from lab.cli import main as lab_main

    data = tmp_path / "data"
    data.mkdir()
    (data / "knowledge_train_msgs.jsonl").write_text("{" * 100_000 + "\n")
    argv = ["train", "--data", str(data), "--base", str(tmp_path / "no-model"), "--out", str(tmp_path / "out")]
    assert lab_main(argv) == 1
    err = capsys.readouterr().err.strip()
    assert err.startswith("lab train: ") and "knowledge_train_msgs.jsonl:1" in err and len(err.splitlines()) == 1
    (data / "knowledge_train_msgs.jsonl").write_bytes(bytes(range(255, -1, -1)) * 4)
    assert lab_main(argv) == 1
    err = capsys.readouterr().err.strip()
    assert "knowledge_train_msgs.jsonl:1: not UTF-8" in err and len(err.splitlines()) == 1
