"""Which repository paths are taxonomy files, and which PR label they call for."""

from __future__ import annotations

from pathlib import PurePosixPath

from lab.taxonomy.leaf import TAXONOMY_ROOTS

LEAF_NAME = "qna.yaml"
YAML_SUFFIXES = (".yaml", ".yml")


def is_taxonomy_file(path: str) -> bool:
    """True for files a PR check must validate: qna.yaml, and misnamed .yaml/.yml, under the three roots."""
    parts = PurePosixPath(path.replace("\\", "/")).parts
    if len(parts) < 2 or parts[0] not in TAXONOMY_ROOTS:
        return False
    return parts[-1] == LEAF_NAME or parts[-1].lower().endswith(YAML_SUFFIXES)


def label_for(path: str) -> str | None:
    """'knowledge' for knowledge/..., 'skill' for compositional_skills/ and foundational_skills/, else None."""
    root = path.replace("\\", "/").split("/", 1)[0]
    if root == "knowledge":
        return "knowledge"
    if root in TAXONOMY_ROOTS:
        return "skill"
    return None


def sibling(path: str, name: str) -> str:
    """The path of `name` in the same folder as `path` (forward slashes)."""
    head, _, _ = path.rpartition("/")
    return f"{head}/{name}" if head else name


def name_hint(name: str) -> str:
    """How to fix a misnamed taxonomy file."""
    lower = name.lower()
    if lower in ("qna.yml", "qna.yaml", "qna.yaml.yaml") or lower.startswith("qna"):
        return f"Rename `{name}` to `qna.yaml` (exactly, in lower case)."
    if lower.startswith("attribution"):
        return "attribution is plain text: name it `attribution.txt`, next to qna.yaml."
    return f"Rename `{name}` to `qna.yaml`; each folder holds one leaf."
