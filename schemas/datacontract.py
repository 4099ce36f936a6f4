"""The generate -> train data contract: which files `lab generate` writes and what one row looks like.

`lab.generate` writes these files, `lab.train` reads them, `lab.publish` ships them as the `-data`
dataset and the ci steps hand them from one to the other; each imports the names from here, so a
rename cannot leave a reader behind. Pure: names and a shape check, no I/O.

Layout of a generate output folder: `knowledge_train_msgs.jsonl` and `skills_train_msgs.jsonl` (all
leaves merged, knowledge and skills apart), `leaves/<leaf-id>.jsonl` (one leaf each) and
`manifest.json` (written last). Training writes the rows it held out to `heldout_msgs.jsonl`.
A row is InstructLab's "messages" record: `{"messages": [{"role", "content"}, ...], "metadata": {...}}`
with at least one assistant turn (what the student learns).
"""

from __future__ import annotations

from typing import Any

KNOWLEDGE_FILE = "knowledge_train_msgs.jsonl"  # every knowledge leaf's rows (training phase 1)
SKILLS_FILE = "skills_train_msgs.jsonl"  # every skill leaf's rows (training phase 2)
MERGED_FILES = (KNOWLEDGE_FILE, SKILLS_FILE)
MANIFEST_FILE = "manifest.json"  # per-leaf results of the run; its presence marks a finished output folder
LEAVES_DIR = "leaves"  # one JSONL per leaf, named by leaf id
HELDOUT_FILE = "heldout_msgs.jsonl"  # the rows training kept out, for early stopping and perplexity
ROLES = ("system", "user", "assistant")


def merged_file(kind: str) -> str:
    """The merged file a leaf of `kind` ("knowledge", or any skill kind) is written to."""
    return KNOWLEDGE_FILE if kind == "knowledge" else SKILLS_FILE


def leaf_file(leaf_id: str) -> str:
    """A leaf's own file, relative to the output folder."""
    return f"{LEAVES_DIR}/{leaf_id}.jsonl"


def messages_row(messages: list[dict[str, str]], metadata: dict[str, Any]) -> dict[str, Any]:
    """One training row in the contract's shape."""
    return {"messages": messages, "metadata": metadata}


def check_record(record: Any, where: str) -> dict[str, Any]:
    """`record` if it is a valid row; else ValueError naming `where` and what is wrong."""
    if not isinstance(record, dict) or not isinstance(record.get("messages"), list) or not record["messages"]:
        raise ValueError(f"{where}: expected an object with a non-empty 'messages' list")
    for message in record["messages"]:
        if not isinstance(message, dict) or message.get("role") not in ROLES or not isinstance(message.get("content"), str):
            raise ValueError(f"{where}: each message needs a role in {ROLES} and a string content")
    if not any(m["role"] == "assistant" for m in record["messages"]):
        raise ValueError(f"{where}: no assistant message, nothing to learn")
    return record
