"""Job settings: which executor, the lease, heartbeat, timeout and retry limits of a worker, and the Ray cluster.

`JobSettings.from_environ()` reads ARBORIST_<FIELD> once (schemas.env_settings); a bad value is one
line naming the variable.
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Literal, Self

from pydantic import Field, model_validator

from schemas.env_settings import EnvSettings

Executor = Literal["local", "actions", "ray"]
EXECUTORS = ("local", "actions", "ray")
Positive = Annotated[float, Field(gt=0)]


class JobSettings(EnvSettings):
    executor: Executor = "local"  # ARBORIST_EXECUTOR: "local" (arborist worker), "actions" (workflow_dispatch) or "ray"
    data_dir: Path = Path("./arborist-data")  # ARBORIST_DATA_DIR (as the bot's): jobs.sqlite3 and logs/ live here
    lease_s: Positive = 60.0  # ARBORIST_LEASE_S: seconds a claim lasts without a heartbeat
    heartbeat_s: Positive = 10.0  # ARBORIST_HEARTBEAT_S: seconds between lease renewals (well under lease_s)
    job_timeout_s: Positive = 6 * 3600.0  # ARBORIST_JOB_TIMEOUT_S: wall-clock limit of one ci step, seconds
    max_attempts: Annotated[int, Field(ge=1)] = 3  # ARBORIST_MAX_ATTEMPTS: claims of one job before it fails (worker crashes)
    poll_s: float = 2.0  # ARBORIST_POLL_S: seconds an idle worker waits before looking again
    kill_grace_s: float = 10.0  # ARBORIST_KILL_GRACE_S: seconds between SIGTERM and SIGKILL of a step
    generate_workflow: str = "arborist-generate.yml"  # ARBORIST_GENERATE_WORKFLOW (actions executor)
    retrain_workflow: str = "arborist-retrain.yml"  # ARBORIST_RETRAIN_WORKFLOW (actions executor)
    public_url: str = ""  # ARBORIST_PUBLIC_URL: where the bot is reachable, for log links (optional)
    db_busy_timeout_s: Positive = 30.0  # ARBORIST_DB_BUSY_TIMEOUT_S: seconds to wait for a locked jobs.sqlite3
    ray_address: str = ""  # ARBORIST_RAY_ADDRESS: the Ray job server (dashboard) URL, e.g. http://ray-head:8265
    ray_auth_header: Annotated[str, Field(repr=False)] = ""  # ARBORIST_RAY_AUTH_HEADER: "Name: value" on every request (a secret)
    ray_namespace: str = "arborist"  # ARBORIST_RAY_NAMESPACE: Ray namespace of the steps, prefix of submission ids
    ray_pip: str = ""  # ARBORIST_RAY_PIP: pinned package for the job's runtime_env, e.g. arborist[all]==0.4.0
    ray_env: str = ""  # ARBORIST_RAY_ENV: names of this process's variables handed to the step, comma-separated
    ray_num_cpus: float = 1.0  # ARBORIST_RAY_NUM_CPUS: CPUs reserved for the step's process on the cluster
    ray_num_gpus: float = 0.0  # ARBORIST_RAY_NUM_GPUS: GPUs reserved for it (a retrain wants at least 1)

    @model_validator(mode="after")
    def _usable(self) -> Self:
        if self.heartbeat_s >= self.lease_s:
            raise ValueError("need 0 < heartbeat_s < lease_s (ARBORIST_HEARTBEAT_S, ARBORIST_LEASE_S)")
        if self.executor == "ray" and not self.ray_address.startswith(("http://", "https://")):
            raise ValueError("ARBORIST_EXECUTOR=ray needs ARBORIST_RAY_ADDRESS, the job server's http(s) URL")
        if self.ray_auth_header and ":" not in self.ray_auth_header:
            raise ValueError("ARBORIST_RAY_AUTH_HEADER must look like 'Name: value'")
        return self

    @property
    def db_path(self) -> Path:
        return Path(self.data_dir) / "jobs.sqlite3"

    @property
    def log_dir(self) -> Path:
        return Path(self.data_dir) / "logs"
