"""Shared test settings.

The real corpus (taxonomy files, webhook payloads, GitHub's OpenAPI description) lives outside
the repository; tests find it through one setting, ARBORIST_FIXTURES (default: ../shared/fixtures
beside the checkout), and skip with a clear reason where it is absent.
"""

from __future__ import annotations

import os
from pathlib import Path

import pytest

# imported now, before any test points ARBORIST_CACHE_DIR at a temp folder: it reads the real model cache
from tests.realmodel import real_gguf_path, real_student_path

REPO_ROOT = Path(__file__).resolve().parent.parent


def fixtures_root() -> Path:
    return Path(os.environ.get("ARBORIST_FIXTURES", REPO_ROOT.parent / "shared" / "fixtures"))


@pytest.fixture(scope="session")
def shared_fixtures() -> Path:
    """The shared real-data corpus; skips the test when it is not there."""
    root = fixtures_root()
    if not root.is_dir():
        pytest.skip(f"real corpus not found at {root} (set ARBORIST_FIXTURES to its folder)")
    return root


@pytest.fixture(scope="session")
def tiny_llama_dir(tmp_path_factory) -> Path:
    """A random two-layer Llama with a tokenizer trained on the fly, built once per test session."""
    from sandbox.tiny import build_tiny_llama

    return build_tiny_llama(tmp_path_factory.mktemp("tiny-llama"))


@pytest.fixture(scope="session")
def real_gguf() -> Path:
    """The real SmolLM2-135M-Instruct Q4_1 GGUF (teacher), fetched once into the user's model cache."""
    return real_gguf_path()


@pytest.fixture(scope="session")
def real_student(real_gguf) -> Path:
    """The real GGUF dequantised into a plain Hugging Face folder (student), converted once per machine."""
    return real_student_path()


@pytest.fixture(autouse=True)
def _isolated_data_dirs(tmp_path_factory, monkeypatch):
    """Point the data and cache folders at temp dirs, so no test writes into the checkout or ~/.cache.

    Tests that need a specific folder set their own afterwards; subprocesses inherit these.
    """
    root = tmp_path_factory.mktemp("arborist-env")
    monkeypatch.setenv("ARBORIST_DATA_DIR", str(root / "data"))
    monkeypatch.setenv("ARBORIST_CACHE_DIR", str(root / "cache"))
