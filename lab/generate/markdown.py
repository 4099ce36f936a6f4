"""Render a generation manifest as Markdown for a PR: keep rates, timings, and a few samples per leaf.

Everything shown comes from a teacher fed with PR content, so it is treated as hostile text: HTML
is escaped, @mentions and #references are defused, each sample is cut short, and the whole body is
kept under GitHub's comment limit with a note saying what was left out.
"""

from __future__ import annotations

import html
import json
from pathlib import Path

from lab.generate.runner import LeafResult, Manifest

SAMPLES_PER_LEAF = 3
SAMPLE_CHARS = 400  # per message shown
EXAMPLES_PER_FILTER = 2
EXAMPLE_CHARS = 160  # per field of a dropped example
DROPPED_FIELDS = (("question", "**Q:**"), ("answer", "**A:**"), ("reply", "**reply:**"), ("why", "**why:**"))
BODY_LIMIT = 60_000  # characters: GitHub allows 65,536 per comment; the caller adds a frame around this


def prompt_rate(result: LeafResult) -> str:
    """Prompt tokens per second of the leaf's own work ('-' for a cached leaf: no model ran)."""
    if result.status == "cached" or result.seconds <= 0:
        return "-"
    return f"{result.prompt_tokens / result.seconds:.1f}"


def _safe(text: str, limit: int = SAMPLE_CHARS) -> str:
    text = " ".join(text.split())
    if len(text) > limit:
        text = text[: limit - 1] + "…"
    text = text.replace("@", "@\u200b").replace("#", "#\u200b")  # no pings, no issue links
    return html.escape(text, quote=False).replace("`", "&#96;")


def read_samples(out_dir: Path, result: LeafResult, k: int = SAMPLES_PER_LEAF) -> list[dict]:
    """The first `k` rows of a leaf's dataset, read lazily (the file may be large)."""
    path = out_dir / result.dataset
    rows: list[dict] = []
    if not path.is_file():
        return rows
    with open(path, encoding="utf-8") as fh:
        for line in fh:
            if len(rows) >= k:
                break
            if line.strip():
                rows.append(json.loads(line))
    return rows


def leaf_section(result: LeafResult, samples: list[dict]) -> str:
    """A collapsible section: status, the filter table, and the samples."""
    lines = [f"<details><summary><code>{html.escape(result.leaf)}</code>: {result.rows} rows, "
             f"keep rate {result.keep_rate:.0%}, {result.status}</summary>", ""]
    if result.message:
        lines += [f"> {_safe(result.message, 600)}", ""]
    if result.filters:
        lines += ["| filter | seen | kept |", "| --- | ---: | ---: |"]
        lines += [f"| {name} | {f['seen']} | {f['kept']} |" for name, f in result.filters.items()]
        lines.append("")
        lines += dropped_examples(result.filters)
    for i, row in enumerate(samples, 1):
        question, with_chunk = sample_question(row)
        answer = next((m["content"] for m in row["messages"] if m["role"] == "assistant"), "")
        note = " _(asked with its document chunk)_" if with_chunk else ""
        lines += [f"**Sample {i}**", "", f"> **Q:** {_safe(question)}{note}", ">", f"> **A:** {_safe(answer)}", ""]
    lines += ["</details>", ""]
    return "\n".join(lines)


def sample_question(row: dict) -> tuple[str, bool]:
    """The teacher's question of a row, and whether the training turn also carries the document chunk.

    Knowledge rows may put the chunk before the question in the user turn; a reviewer wants the question."""
    user = next((m["content"] for m in row["messages"] if m["role"] == "user"), "")
    question = (row.get("metadata") or {}).get("question")
    if isinstance(question, str) and question and question != user:
        return question, True
    return user, False


def dropped_examples(filters: dict[str, dict]) -> list[str]:
    """Two rows each filter dropped, so a reviewer sees what it removes (and can tell if it is wrong)."""
    lines = []
    for name, f in filters.items():
        for example in f.get("dropped", [])[:EXAMPLES_PER_FILTER]:
            parts = [f"{label} {_safe(example[key], EXAMPLE_CHARS)}" for key, label in DROPPED_FIELDS if example.get(key)]
            lines.append(f"- dropped by `{html.escape(name)}`: " + " · ".join(parts))
    return ["**Dropped, for example**", "", *lines, ""] if lines else []


def render_manifest(manifest: Manifest, out_dir: Path, data_link: str = "", limit: int = BODY_LIMIT) -> str:
    """The whole report. Sections that do not fit are replaced by a one-line note, never cut mid-tag."""
    worked = [r for r in manifest.leaves if r.status != "cached"]
    busy = sum(r.seconds for r in worked) or 0.0
    completion = f"{sum(r.completion_tokens for r in worked) / busy:.1f}" if busy else "n/a"
    prompt = f"{sum(r.prompt_tokens for r in worked) / busy:.1f}" if busy else "n/a"
    leaves = f"{len(manifest.leaves)} leaf" if len(manifest.leaves) == 1 else f"{len(manifest.leaves)} leaves"
    head = [f"**{manifest.rows} rows** from {leaves} with `{html.escape(manifest.teacher)}` "
            f"in {manifest.seconds:.1f} s ({completion} completion tokens/s, {prompt} prompt tokens/s).", "",
            "| leaf | kind | status | rows | keep rate | completion tok/s | prompt tok/s | seconds |",
            "| --- | --- | --- | ---: | ---: | ---: | ---: | ---: |"]
    head += [f"| `{html.escape(r.leaf_id)}` | {r.kind} | {r.status} | {r.rows} | {r.keep_rate:.0%} | "
             f"{r.tokens_per_s:.1f} | {prompt_rate(r)} | {r.seconds:.1f} |" for r in manifest.leaves]
    head.append("")
    tail = [f"Full data: {data_link}" if data_link else "", ""]
    body = "\n".join(head)
    budget = limit - len(body) - len("\n".join(tail)) - 200
    omitted = 0
    for result in manifest.leaves:
        section = leaf_section(result, read_samples(out_dir, result))
        if len(section) <= budget:
            body += "\n" + section
            budget -= len(section) + 1
        else:
            omitted += 1
    if omitted:
        body += f"\n_{omitted} leaf section(s) left out to stay within GitHub's comment size; see the full data._\n"
    return body + "\n" + "\n".join(tail)
