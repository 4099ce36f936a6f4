"""What the jobs reported, told plainly: the generated samples, the gate's verdict and reason, each leaf
before and after, and the trained question's answers from the evaluation (base model and trained model).

Pure functions over the bot's comments, the retrain's `report.json` and the job row, so the story never
claims more than the jobs measured. A blocked gate is a result, not a crash: the demo says so, why, and
what a consumer gets.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

ANSWER_CHARS = 240  # an answer quoted in the timeline is cut here


def read_report(data_dir: Path, sha: str) -> dict[str, Any] | None:
    """The retrain's evaluation report on the worker (ARBORIST_DATA_DIR/retrain/<sha>/report.json)."""
    path = data_dir / "retrain" / sha / "report.json"
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None


def gate_blocked(job: dict[str, Any]) -> bool:
    """A retrain that ran to its gate and was blocked: the job failed on purpose, with the gate's title."""
    return "gate blocked" in str(job.get("result_title") or "")


def gate_lines(report: dict[str, Any]) -> list[str]:
    """The verdict first, then the overall change and one line per leaf (base → trained ROUGE-L)."""
    gate = report.get("gate") or {}
    rouge = (report.get("metrics") or {}).get("rouge_l") or {}
    lines = [f"gate: {str(gate.get('decision', '?')).upper()}: {gate.get('reason', 'no reason given')}"]
    if "delta" in rouge:
        d = rouge["delta"]
        lines.append(f"ROUGE-L on {rouge.get('n')} seed questions: {rouge.get('baseline', 0):.3f} (base) → "
                     f"{rouge.get('value', 0):.3f} (trained), change {d['mean']:+.3f} (95% CI {d['ci'][0]:+.3f}.."
                     f"{d['ci'][1]:+.3f})")
    for leaf in report.get("leaves") or []:
        base = (leaf.get("baseline") or {}).get("rouge_l")
        before = f"{base:.3f} → " if isinstance(base, (int, float)) else ""
        lines.append(f"  {leaf.get('leaf')}: {before}{leaf.get('rouge_l', 0):.3f} ({leaf.get('verdict', 'no baseline')})")
    return lines


def evaluated_answers(report: dict[str, Any], question: str) -> tuple[str, str] | None:
    """(base model's answer, trained model's answer) to `question` in the evaluation, if it was asked."""
    for row in report.get("items") or []:
        if row.get("question") == question:
            return clip(str(row.get("baseline_answer", ""))), clip(str(row.get("answer", "")))
    return None


def clip(text: str, limit: int = ANSWER_CHARS) -> str:
    text = " ".join(text.split())
    return text if len(text) <= limit else text[: limit - 1] + "…"


def blocked_story(report: dict[str, Any] | None, job: dict[str, Any]) -> list[str]:
    """Why nothing was released, and what a consumer gets instead."""
    reason = ((report or {}).get("gate") or {}).get("reason") or job.get("result_title") or "see the job log"
    return [f"no release: the gate blocked it ({reason})",
            "a consumer keeps the last release; this taxonomy has none, so they keep the base model,",
            "and the contributor's PR gets a note with the evaluation instead of a release."]


def impact_lines(body: str) -> list[str]:
    """What the note on the merged PR says the contributor's leaf did ('`leaf`: 0.21 → 0.78 on its 5 questions,
    95% CI +0.44..+0.70: improved'), as timeline lines."""
    return [f"the contributor's leaf: {line[2:]}" for line in body.splitlines()
            if line.startswith("- `") and (" on its " in line or "not evaluated" in line)]


def release_lines(tag: str, repos: list[dict[str, Any]], collection: dict[str, Any] | None) -> list[str]:
    """The release's repositories on the Hub (model, -GGUF, -data) and the model line's collection, one line each."""
    lines = [f"{r['role']:<5} {r['url']} @ {tag}: {len(r['files'])} files, {r['bytes'] / 1e6:.1f} MB" for r in repos]
    missing = sorted({"model", "gguf", "data"} - {r["role"] for r in repos})
    if missing:
        lines.append(f"not on the Hub for {tag}: {', '.join(missing)}")
    if collection is None:
        return [*lines, "no collection lists this model line"]
    lines.append(f"collection \"{collection['title']}\" {collection['url']}")
    lines += [f"  {item['type']} {item['id']}" + (f": {clip(item['note'], 120)}" if item.get("note") else "")
              for item in collection["items"]]
    return lines


def report_headline(body: str) -> list[str]:
    """The generation report's first line ('**6 rows** from 1 leaf with ... in 12 s ...'), unbolded."""
    return [line.replace("**", "") for line in body.splitlines() if line.startswith("**") and " rows" in line][:1]


def samples_in(body: str) -> list[str]:
    """'Q: ... / A: ...' for each sample quoted in a generate status comment."""
    found, question = [], None
    for line in body.splitlines():
        text = line.lstrip("> ").strip()
        if text.startswith("**Q:**"):
            question = text[len("**Q:**"):].strip()
        elif text.startswith("**A:**") and question is not None:
            found.append(f"sample: Q: {clip(question, 160)}\n        A: {clip(text[len('**A:**'):].strip(), 160)}")
            question = None
    return found


def samples_from_data(out_dir: Path, limit: int) -> list[str]:
    """The first generated rows of a /generate job's data on the worker, as 'Q: ... / A: ...' lines. A
    knowledge row's prompt carries its document chunk, so the question is the one the teacher wrote."""
    found: list[str] = []
    for path in sorted(out_dir.glob("*_train_msgs.jsonl")):
        with open(path, encoding="utf-8", errors="replace") as rows:
            for line in rows:
                if len(found) >= limit:
                    return found
                try:
                    row = json.loads(line)
                    messages = row["messages"]
                    question = (row.get("metadata") or {}).get("question") or messages[-2]["content"].split("\n\n")[-1]
                    answer = messages[-1]["content"]
                except (ValueError, KeyError, IndexError, TypeError, AttributeError):
                    continue
                found.append(f"sample: Q: {clip(str(question), 160)}\n        A: {clip(str(answer), 160)}")
    return found
