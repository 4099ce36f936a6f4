"""A Hub collection per model line: the model repository, its GGUF twin and its data, with the latest release.

Collections hold repositories, not revisions, so "each release added" means: the line's repositories are
items (added once), and the model's item note names the newest release, its taxonomy commit and headline.
`lab releases` reads the same collection back. All calls are idempotent (exists_ok).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

TITLE_SUFFIX = " releases"
MAX_TITLE = 60  # the Hub's limit on collection titles
ITEM_TYPES = {"model": "model", "gguf": "model", "data": "dataset"}
ORDER = ("model", "gguf", "data")


@dataclass(frozen=True)
class LineCollection:
    slug: str
    title: str
    url: str
    items: list[tuple[str, str, str]]  # (type, repo id, note)


def collection_title(model_repo: str) -> str:
    name = model_repo.rstrip("/").rsplit("/", 1)[-1]
    return (name[: MAX_TITLE - len(TITLE_SUFFIX)] + TITLE_SUFFIX).strip()


def release_note(tag: str, taxonomy_sha: str, headline: str = "") -> str:
    return f"Latest release {tag} (taxonomy {taxonomy_sha[:12]})" + (f": {headline}" if headline else "")


def add_release(api: Any, model_repo: str, repos: dict[str, str], note: str, private: bool = False) -> str:
    """Put the line's repositories in its collection and note the release on the model's item; the slug."""
    owner = model_repo.split("/", 1)[0]
    collection = api.create_collection(collection_title(model_repo), namespace=owner, private=private,
                                       description=f"Every release of {model_repo}: weights, GGUF, data.",
                                       exists_ok=True)
    for role in ORDER:
        if role in repos:
            collection = api.add_collection_item(collection.slug, repos[role], ITEM_TYPES[role], exists_ok=True)
    model_item = next((i for i in collection.items if i.item_id == model_repo and i.item_type == "model"), None)
    if model_item is not None and model_item.note != note:
        api.update_collection_item(collection.slug, model_item.item_object_id, note=note)
    return str(collection.slug)


def find_collection(api: Any, model_repo: str) -> LineCollection | None:
    """The collection `add_release` keeps for `model_repo`, read back; None when there is none."""
    owner = model_repo.split("/", 1)[0]
    title = collection_title(model_repo)
    for listed in api.list_collections(owner=owner, item=f"models/{model_repo}"):
        if listed.title == title:
            full = api.get_collection(listed.slug)
            return LineCollection(full.slug, full.title, full.url,
                                  [(i.item_type, i.item_id, i.note or "") for i in full.items])
    return None
