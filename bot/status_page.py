"""The triager's view (`GET /status`): the queue, running jobs with progress, workers, recent releases.

Read-only and public, so it shows nothing a stranger should not see: no settings, no tokens (progress
text is masked again here, as the worker already did), and a repository's name, PR and people only when
the operator listed it in ARBORIST_STATUS_REPOS (`*` for every repository) — a private taxonomy's
jobs appear as "a private repository". The page reloads its main part every REFRESH_S seconds through
`GET /status?part=main`, the same renderer, so it works without any script too (just without refresh).
"""

from __future__ import annotations

import html
import time
from collections.abc import Iterable
from dataclasses import dataclass

from bot.jobs.heartbeats import Heartbeat
from bot.jobs.model import KINDS, Job
from schemas.masking import mask

REFRESH_S = 3
RECENT_JOBS = 20
RECENT_RELEASES = 10
HIDDEN_REPO = "a private repository"
SILENT_AFTER_S = 120.0  # a worker not heard from for this long is shown as silent


@dataclass(frozen=True)
class StatusData:
    """Everything the page shows, read from the stores at one moment."""
    queued: list[Job]
    running: list[Job]
    recent: list[Job]
    releases: list[Job]
    workers: list[Heartbeat]
    now: float


def read_status(store, heartbeats, now: float | None = None) -> StatusData:
    """One snapshot from the job store (bounded queries) and the workers' heartbeats."""
    return StatusData(queued=store.jobs(state="queued")[:200], running=store.jobs(state="running")[:200],
                      recent=store.recent(RECENT_JOBS), releases=[j for j in store.recent(RECENT_RELEASES,
                                                                                          kind="retrain")
                                                                  if j.state == "succeeded"],
                      workers=heartbeats.workers() if heartbeats is not None else [],
                      now=time.time() if now is None else now)


def _ago(seconds: float) -> str:
    seconds = max(0, int(seconds))
    if seconds < 90:
        return f"{seconds} s ago"
    if seconds < 5400:
        return f"{seconds // 60} min ago"
    return f"{seconds // 3600} h ago"


def _text(value: object) -> str:
    return html.escape(mask(str(value)), quote=True)


def _where(job: Job, named: frozenset[str]) -> str:
    if "*" not in named and job.repo not in named:
        return HIDDEN_REPO
    return _text(job.repo) + (f" #{job.pr}" if job.pr is not None else "")


def _shown(job: Job, named: frozenset[str]) -> bool:
    return "*" in named or job.repo in named


def _table(headers: Iterable[str], rows: list[list[str]], empty: str, css: str) -> str:
    if not rows:
        return f'<p class="empty {css}">{empty}</p>'
    head = "".join(f"<th>{h}</th>" for h in headers)
    body = "".join("<tr>" + "".join(f"<td>{cell}</td>" for cell in row) + "</tr>" for row in rows)
    return f'<table class="{css}"><thead><tr>{head}</tr></thead><tbody>{body}</tbody></table>'


def _log_link(job: Job) -> str:
    return f'<a href="/jobs/{job.id}/log">log</a>'


def _progress(job: Job) -> str:
    bar = ""
    if job.fraction is not None:
        percent = max(0, min(100, round(job.fraction * 100)))
        bar = f'<progress max="100" value="{percent}">{percent}%</progress> {percent}% '
    return bar + _text(job.progress or "starting")


def _queue_rows(data: StatusData, named: frozenset[str]) -> list[list[str]]:
    return [[str(place), f"#{job.id}", _text(job.kind), _where(job, named),
             _text(job.requested_by) if _shown(job, named) else "", _ago(data.now - job.created_at)]
            for place, job in enumerate(data.queued, 1)]


def _running_rows(data: StatusData, named: frozenset[str]) -> list[list[str]]:
    return [[f"#{job.id}", _text(job.kind), _where(job, named), _progress(job), _text(job.lease_owner or ""),
             _ago(data.now - (job.started_at or job.created_at)), _log_link(job)] for job in data.running]


def _worker_rows(data: StatusData) -> list[list[str]]:
    rows = []
    for beat in data.workers:
        silent = data.now - beat.seen_at > SILENT_AFTER_S
        doing = "silent" if silent else (f"running #{beat.job_id}" if beat.job_id is not None else "idle")
        rows.append([_text(beat.worker), doing, _ago(data.now - beat.seen_at), _ago(data.now - beat.started_at)])
    return rows


def _finished_rows(jobs: list[Job], data: StatusData, named: frozenset[str]) -> list[list[str]]:
    rows = []
    for job in jobs:
        title = _text(job.result_title or job.reason) if _shown(job, named) else ""
        rows.append([f"#{job.id}", _text(job.kind), _text(job.state), _where(job, named), title,
                     _ago(data.now - (job.finished_at or job.updated_at)), _log_link(job)])
    return rows


def render_main(data: StatusData, named_repos: frozenset[str]) -> str:
    """The page's main part: four tables, every value escaped."""
    return "".join([
        f"<h2>Queue ({len(data.queued)})</h2>",
        _table(["place", "job", "kind", "where", "asked by", "waiting since"], _queue_rows(data, named_repos),
               "Nothing is waiting.", "queue"),
        f"<h2>Running ({len(data.running)})</h2>",
        _table(["job", "kind", "where", "progress", "worker", "started", ""], _running_rows(data, named_repos),
               "Nothing is running.", "running"),
        f"<h2>Workers ({len(data.workers)})</h2>",
        _table(["worker", "doing", "last heard", "up since"], _worker_rows(data), "No worker has reported.",
               "workers"),
        "<h2>Recent releases</h2>",
        _table(["job", "kind", "state", "where", "release", "finished", ""],
               _finished_rows(data.releases, data, named_repos), "No release yet.", "releases"),
        "<h2>Recent jobs</h2>",
        _table(["job", "kind", "state", "where", "result", "finished", ""],
               _finished_rows(data.recent, data, named_repos), "No job has finished yet.", "recent"),
        f'<p class="stamp">Updated {time.strftime("%Y-%m-%d %H:%M:%S UTC", time.gmtime(data.now))}.</p>',
    ])


STYLE = ("body{font-family:system-ui,sans-serif;margin:2em;max-width:72em}table{border-collapse:collapse;"
         "width:100%}th,td{border-bottom:1px solid #ddd;padding:.3em .6em;text-align:left}"
         ".empty{color:#666}.stamp{color:#666;font-size:.9em}")
SCRIPT = ("setInterval(async()=>{try{const r=await fetch('/status?part=main',{cache:'no-store'});"
          "if(r.ok){document.getElementById('main').innerHTML=await r.text();}}catch(e){}}," f"{REFRESH_S * 1000});")


def render_page(data: StatusData, named_repos: frozenset[str]) -> str:
    """The whole page: the main part plus a few lines of script that refresh it."""
    return ("<!doctype html><html lang=\"en\"><head><meta charset=\"utf-8\"><title>Arborist status</title>"
            f"<meta name=\"viewport\" content=\"width=device-width\"><style>{STYLE}</style></head><body>"
            f"<h1>Arborist status</h1><p>Refreshes every {REFRESH_S} s.</p>"
            f"<main id=\"main\">{render_main(data, named_repos)}</main><script>{SCRIPT}</script></body></html>")


def named_repos_from(setting: str) -> frozenset[str]:
    """ARBORIST_STATUS_REPOS: comma-separated owner/name list, or `*`; empty hides every name."""
    return frozenset(part.strip() for part in setting.split(",") if part.strip())


def export_gauges(metrics, data: StatusData) -> None:
    """The same snapshot as Prometheus gauges, so the Grafana dashboard can chart the queue and the workers."""
    for kind in sorted({job.kind for job in data.queued + data.running} | set(KINDS)):
        metrics.set("arborist_jobs", sum(j.kind == kind for j in data.queued), kind=kind, state="queued")
        metrics.set("arborist_jobs", sum(j.kind == kind for j in data.running), kind=kind, state="running")
    alive = [b for b in data.workers if data.now - b.seen_at <= SILENT_AFTER_S]
    metrics.set("arborist_workers", sum(b.job_id is not None for b in alive), doing="running")
    metrics.set("arborist_workers", sum(b.job_id is None for b in alive), doing="idle")
