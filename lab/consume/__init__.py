"""Consuming releases: pull one into the Hugging Face cache, list them, chat with one."""

from lab.consume.hub import PullError, ReleaseRow, list_releases, pull

__all__ = ["PullError", "ReleaseRow", "list_releases", "pull"]
