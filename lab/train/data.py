"""Training data: read `lab generate`'s messages JSONL and mix it into phases.

The recipe (documented in docs/training.md): phase 1 ("knowledge") is every knowledge sample; phase 2
("skills") is every skills sample plus a replay of phase-1 samples making up `replay_share` of the
phase; "stacked" mode trains once on both files together. Every phase also replays the base model's
own answers to general prompts (`with_self_replay`, see replay.py), and carries the held-out samples
of its sources, on which early stopping measures the loss. All choices are seeded, so the same data
and config give the same phases in every process.
"""

from __future__ import annotations

import json
import random
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

from schemas.datacontract import KNOWLEDGE_FILE, SKILLS_FILE, check_record

MAX_LINE_BYTES = 4 * 1024 * 1024  # a single sample larger than this is refused
MAX_NESTING = 64  # brackets deep; a messages record needs 3, and json's C parser would recurse without bound


@dataclass(frozen=True)
class Phase:
    """One training phase: its name, its samples (messages records) and how many epochs to run."""

    name: str  # "phase1", "phase2" or "stacked"
    samples: tuple[dict[str, Any], ...]
    epochs: int
    counts: dict[str, int]  # samples per source ("knowledge", "skills", "replay", "self_replay")
    heldout: tuple[dict[str, Any], ...] = ()  # held-out samples of the phase's sources (early stopping)


def read_messages(path: str | Path) -> list[dict[str, Any]]:
    """Read one messages JSONL file; blank lines are skipped, a bad line raises ValueError with its number."""
    records = []
    with open(path, "rb") as handle:
        for number, raw in enumerate(handle, start=1):
            if len(raw) > MAX_LINE_BYTES:
                raise ValueError(f"{path}:{number}: line longer than {MAX_LINE_BYTES} bytes")
            if not raw.strip():
                continue
            records.append(check_record(_parse_line(raw, f"{path}:{number}"), f"{path}:{number}"))
    return records


def _nesting(raw: bytes) -> int:
    """The deepest bracket nesting of a JSON line, counted outside strings, without parsing it."""
    depth = deepest = 0
    in_string = escaped = False
    for byte in raw:
        if in_string:
            escaped = not escaped and byte == 0x5C  # backslash
            in_string = escaped or byte != 0x22  # a quote not escaped ends the string
            continue
        if byte == 0x22:
            in_string = True
        elif byte in (0x5B, 0x7B):
            depth += 1
            deepest = max(deepest, depth)
        elif byte in (0x5D, 0x7D):
            depth -= 1
    return deepest


def _parse_line(raw: bytes, where: str) -> Any:
    """One JSONL line as JSON; text that is not UTF-8, not JSON or nested too deeply is refused with `where`."""
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise ValueError(f"{where}: not UTF-8 text (byte {exc.start}); is this a binary file?") from None
    if raw.count(b"[") + raw.count(b"{") > MAX_NESTING and _nesting(raw) > MAX_NESTING:
        raise ValueError(f"{where}: JSON nested deeper than {MAX_NESTING} levels")
    try:
        return json.loads(text)
    except json.JSONDecodeError as exc:
        raise ValueError(f"{where}: not JSON ({exc.msg})") from None
    except RecursionError:
        raise ValueError(f"{where}: JSON nested too deeply") from None


def load_data_dir(data_dir: str | Path) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    """Knowledge and skills records from a `lab generate` output directory (either file may be absent)."""
    root = Path(data_dir)
    knowledge = read_messages(root / KNOWLEDGE_FILE) if (root / KNOWLEDGE_FILE).is_file() else []
    skills = read_messages(root / SKILLS_FILE) if (root / SKILLS_FILE).is_file() else []
    if not knowledge and not skills:
        raise ValueError(f"{root}: no {KNOWLEDGE_FILE} or {SKILLS_FILE} with samples")
    return knowledge, skills


def split_heldout(records: list[dict[str, Any]], share: float, seed: int) -> tuple[list, list]:
    """Keep `share` of the records out of training (seeded); at least one stays in training."""
    if share <= 0 or len(records) < 2:
        return list(records), []
    order = list(range(len(records)))
    random.Random(seed).shuffle(order)
    n_out = min(len(records) - 1, max(1, round(share * len(records))))
    out = set(order[:n_out])
    train = [r for i, r in enumerate(records) if i not in out]
    return train, [r for i, r in enumerate(records) if i in out]


def replay_count(n_skills: int, n_knowledge: int, share: float) -> int:
    """How many phase-1 samples to replay so they form `share` of phase 2 (capped by what exists)."""
    if share <= 0 or n_skills == 0:
        return 0
    wanted = round(share * n_skills / (1 - share))
    return min(n_knowledge, wanted)


def mix_phases(
    knowledge: list[dict[str, Any]],
    skills: list[dict[str, Any]],
    *,
    mode: str,
    replay_share: float,
    knowledge_epochs: int,
    skills_epochs: int,
    seed: int,
    heldout_knowledge: list[dict[str, Any]] | None = None,
    heldout_skills: list[dict[str, Any]] | None = None,
) -> list[Phase]:
    """Apply the mixing recipe; phases with no samples are left out. Phase 2 is validated on held-out
    skills and knowledge samples, since it trains on both (replay)."""
    held_k, held_s = tuple(heldout_knowledge or ()), tuple(heldout_skills or ())
    if mode == "stacked":
        counts = {"knowledge": len(knowledge), "skills": len(skills)}
        return [Phase("stacked", tuple(knowledge + skills), knowledge_epochs, counts, held_k + held_s)]
    phases = []
    if knowledge:
        phases.append(Phase("phase1", tuple(knowledge), knowledge_epochs, {"knowledge": len(knowledge)}, held_k))
    if skills:
        n_replay = replay_count(len(skills), len(knowledge), replay_share)
        replay = random.Random(seed + 1).sample(knowledge, n_replay) if n_replay else []
        counts = {"skills": len(skills), "replay": len(replay)}
        phases.append(Phase("phase2", tuple(skills + replay), skills_epochs, counts, held_s + held_k))
    return phases


def with_self_replay(phases: list[Phase], train: list[dict[str, Any]], heldout: list[dict[str, Any]]) -> list[Phase]:
    """Every phase also trains on the base model's own general answers (`train`) and is validated on
    the held-out ones, so early stopping sees forgetting as well as learning."""
    if not train and not heldout:
        return phases
    return [replace(p, samples=p.samples + tuple(train), counts=p.counts | {"self_replay": len(train)},
                    heldout=p.heldout + tuple(heldout)) for p in phases]


def write_messages(path: str | Path, records: list[dict[str, Any]]) -> None:
    with open(path, "w", encoding="utf-8") as handle:
        for record in records:
            handle.write(json.dumps(record, ensure_ascii=False) + "\n")
