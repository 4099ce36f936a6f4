"""The reviewer's steps of the demo: `/precheck` and `/preview` on the contributor's fixed PR, before the merge.

Each posts a maintainer's command, waits for its job on the same queue as `/generate`, keeps the
status comment as an artefact and tells what a reviewer learns: the precheck's verdict and a few
answers beside their seed answers; the preview's per-set change with its interval and the gate's
word, general retention, and the kept adapter answering the contributor's question via
`lab chat --adapter`.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from sandbox.demo import leaves, outcome
from sandbox.demo.timeline import StepFailed
from sandbox.demo.world import World

STATUS_MARKER = "arborist:status"
REACTION_TIMEOUT_S = 60  # the bot reacts to a command within a second; allow slow machines
STATUS_TIMEOUT_S = 15  # the status comment's last edit follows the job's end within a second
ROWS_SHOWN = 2  # precheck rows quoted in the timeline


def job_failure(world: World, job: dict) -> str:
    """Why a job did not succeed, with the end of its log (every step that waits on a job says it this way)."""
    reason = f"the {job.get('kind')} job ended {job.get('state')!r}: {job.get('result_title') or job.get('error') or ''}"
    tail = world.stack.job_log_tail(job)
    return f"{reason}\n{tail}" if tail else reason


def _status_comment(world: World) -> dict[str, Any] | None:
    number = world.pr["number"]
    return next((c for c in world.stack.github.bot_comments(number) if STATUS_MARKER in c["body"]), None)


def _final_status_comment(world: World, job_id: Any) -> dict[str, Any] | None:
    """The status comment once it shows the job ended: the bot edits it just after the job's state changes, so
    reading it at once could keep "running". After STATUS_TIMEOUT_S, whatever it shows."""
    def ended() -> dict[str, Any] | None:
        comment = _status_comment(world)
        head = next((line for line in (comment or {}).get("body", "").splitlines() if f"job #{job_id}" in line), "")
        return comment if head and "**queued**" not in head and "**running**" not in head else None

    try:
        return world.wait_for(f"the status comment to show job #{job_id} ended", ended, STATUS_TIMEOUT_S)
    except StepFailed:
        return _status_comment(world)


def run_command(world: World, command: str, kind: str) -> dict[str, Any]:
    """Post a maintainer's `command`, wait for its job to end, keep the status comment; the finished job."""
    gh, stack = world.stack.github, world.stack
    already = len([j for j in stack.jobs() if j.get("kind") == kind])
    posted = gh.add_comment(world.pr["number"], leaves.MAINTAINER, command)
    gh.deliver("issue_comment", "created", posted)
    world.wait_for(f"a reaction on {command}", lambda: gh.reactions(posted["id"]), REACTION_TIMEOUT_S)

    def finished() -> dict[str, Any] | None:
        jobs = [j for j in stack.jobs() if j.get("kind") == kind]
        return stack.job_finished(kind) if len(jobs) > already else None

    job = world.wait_for(f"the {kind} job to finish", finished)
    status = _final_status_comment(world, job.get("id"))
    if status is not None:
        world.artefacts.comment(f"{kind} status", status, edited=True)
    world.artefacts.data(kind, f"{kind}-job", job)
    if job.get("state") != "succeeded":
        raise StepFailed("", job_failure(world, job))
    return job


def precheck_lines(report: str) -> list[str]:
    """The verdict line and the first rows, as `question -> model answer (seed answer, ROUGE-L)`."""
    lines = [line.replace("**Verdict:** ", "precheck: ") for line in report.splitlines() if line.startswith("**Verdict:**")]
    for row in [line for line in report.splitlines() if line.startswith("| ") and line[2:3].isdigit()][:ROWS_SHOWN]:
        cells = [c.strip().strip("`") for c in row.strip("|").split(" | ")]
        if len(cells) >= 5:
            lines.append(f"Q: {cells[1]}\n   model: {outcome.clip(cells[3])}\n   seed answer: {cells[2]} "
                         f"(ROUGE-L {cells[4]}, {cells[5] if len(cells) > 5 else ''})")
    return lines


def maintainer_precheck(world: World) -> None:
    """/precheck: the current model answers the PR's seed questions; the verdict says which are new to it."""
    job = run_command(world, "/precheck", "precheck")
    world.timeline.note(f"precheck: {job.get('result_title')}")
    world.artefacts.fact("precheck", job.get("result_title") or "")
    for line in precheck_lines(str(job.get("result_md") or "")):
        world.timeline.note(line)


def preview_lines(report: dict[str, Any]) -> list[str]:
    """Per question set: base -> preview, the change with its 95% interval and the gate's word; then retention."""
    lines = []
    for leaf in report["leaves"]:
        for s in leaf["sets"]:
            d = s["delta"]
            lines.append(f"{s['source']} questions ({s['n']}): base {s['base']:.2f} -> preview {s['preview']:.2f}, "
                         f"change {d['mean']:+.2f} (95% CI {d['ci'][0]:+.2f}..{d['ci'][1]:+.2f}): {d['verdict']}")
    lines.append(f"general retention: {report['retention']['line']}")
    return lines


def maintainer_preview(world: World) -> None:
    """/preview: a LoRA adapter trained on the PR's data, compared with the base; the adapter answers in lab chat."""
    job = run_command(world, "/preview", "preview")
    world.timeline.note(f"preview: {job.get('result_title')}")
    work = world.stack.data_dir / "preview" / f"job-{job.get('id')}"
    report = json.loads((work / "report.json").read_text(encoding="utf-8"))
    world.artefacts.data("preview", "preview-report", report)
    run = report["run"]
    rows = f"{run['train_rows']} generated row{'' if run['train_rows'] == 1 else 's'}"
    stopped = " (stopped by preview.max_minutes)" if run.get("timed_out") else ""
    world.timeline.note(f"a LoRA adapter, {run['steps']} steps{stopped} over {run['model']}, on {rows}; "
                        f"{run['held_rows']} more held out")
    for line in preview_lines(report):
        world.timeline.note(line)
    adapter = Path(run["adapter"])
    question = leaves.TRAINED_QUESTION
    answer = world.stack.chat(str(world.models.student_dir), question, "hf", "--adapter", str(adapter))
    world.artefacts.fact("answer_preview", answer)
    world.timeline.note(f"$ lab chat {run['chat_model']} --adapter {adapter}\nQ: {question}\nA (preview): "
                        f"{outcome.clip(answer)}")
    if not answer.strip():
        raise StepFailed("", "the preview adapter gave an empty answer")
