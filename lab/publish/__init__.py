"""Releases: a trained checkpoint, its GGUF exports and a model card, as one tagged commit.

`publish_release(model_dir, target, info)` is what ci.retrain calls after the evaluation gate.
Targets: `HubTarget(repo_id, api)` with an injected `HfApi(endpoint=..., token=...)`, or
`DirectoryTarget(path)` for air-gapped use. Heavy libraries load only when a release is staged.
"""

from lab.publish.publisher import publish_release, redact
from lab.publish.release import (
    DEFAULT_TAG_FORMAT,
    LeafChange,
    PublishError,
    ReleaseInfo,
    ReleaseResult,
    format_tag,
)
from lab.publish.targets import DirectoryTarget, HubTarget

__all__ = [
    "DEFAULT_TAG_FORMAT",
    "DirectoryTarget",
    "HubTarget",
    "LeafChange",
    "PublishError",
    "ReleaseInfo",
    "ReleaseResult",
    "format_tag",
    "publish_release",
    "redact",
]
