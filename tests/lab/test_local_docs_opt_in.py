"""ARBORIST_ALLOW_LOCAL_DOCS means the same to `lab validate` and to the document fetcher (`lab generate`)."""

from __future__ import annotations

import argparse

import pytest

from lab.commands.validate import allow_local_docs
from lab.generate.documents import DocsSettings
from schemas.config_model import ConfigError


@pytest.mark.parametrize("value", ["1", "true", "yes", "0", "false", ""])
def test_validate_and_generate_read_the_opt_in_alike(monkeypatch, value):
    monkeypatch.setenv("ARBORIST_ALLOW_LOCAL_DOCS", value)
    assert allow_local_docs(argparse.Namespace()) is DocsSettings.from_env().allow_local


def test_a_value_that_is_not_a_boolean_is_refused_by_both(monkeypatch):
    monkeypatch.setenv("ARBORIST_ALLOW_LOCAL_DOCS", "sometimes")
    for read in (lambda: allow_local_docs(argparse.Namespace()), DocsSettings.from_env):
        with pytest.raises(ConfigError, match="^ARBORIST_ALLOW_LOCAL_DOCS: expected true or false, got 'sometimes'$"):
            read()
    assert DocsSettings.for_pull_requests({"ARBORIST_ALLOW_LOCAL_DOCS": "1"}).allow_local is False  # never for a PR
