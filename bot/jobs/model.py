"""A job as plain data: what to run (kind, repo, PR, SHA, arguments) and where it stands."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any

from schemas.step_report import CANCELLED, FAILED, QUEUED, RUNNING, SUCCEEDED

STATES = (QUEUED, RUNNING, SUCCEEDED, FAILED, CANCELLED)
ACTIVE = (QUEUED, RUNNING)
FINAL = (SUCCEEDED, FAILED, CANCELLED)
KINDS = ("generate", "retrain", "precheck", "preview")
PR_KINDS = ("generate", "precheck", "preview")  # jobs a command starts on one pull request
CHECK_NAMES = {"generate": "arborist/generate", "retrain": "arborist/retrain", "precheck": "arborist/precheck",
               "preview": "arborist/preview"}


@dataclass(frozen=True)
class Job:
    id: int
    kind: str
    repo: str
    sha: str
    state: str
    pr: int | None = None
    args: dict[str, Any] = field(default_factory=dict)  # samples, leaves, ref, merged PRs...
    requested_by: str = ""
    installation_id: int | None = None
    attempts: int = 0
    max_attempts: int = 3
    lease_owner: str | None = None
    lease_expires: float | None = None
    cancel_requested: bool = False
    reason: str = ""  # why it failed or was cancelled
    progress: str = ""
    fraction: float | None = None
    result_title: str = ""
    result_md: str = ""
    log_url: str = ""
    artifacts_url: str = ""
    status_comment_id: int | None = None
    check_run_id: int | None = None
    run_id: int | None = None  # the Actions workflow run, under the actions executor
    created_at: float = 0.0
    updated_at: float = 0.0
    started_at: float | None = None
    finished_at: float | None = None

    @property
    def active(self) -> bool:
        return self.state in ACTIVE

    @property
    def check_name(self) -> str:
        return CHECK_NAMES.get(self.kind, f"arborist/{self.kind}")

    @classmethod
    def from_row(cls, row: Any) -> Job:
        data = dict(row)
        data["args"] = json.loads(data.pop("args") or "{}")
        data["cancel_requested"] = bool(data["cancel_requested"])
        data.pop("dedupe_key", None)
        return cls(**data)


def approved_arg(job: Job) -> str:
    """A retrain's approved PRs (`/approve`) as `ci.retrain --approved` takes them: "7,9" (digits only)."""
    return ",".join(str(int(n)) for n in job.args.get("approved") or [])
