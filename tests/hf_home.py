"""An autouse fixture giving each test its own Hugging Face home; import it into a conftest to use it."""

from __future__ import annotations

import pytest


@pytest.fixture(autouse=True)
def isolated_hf_home(tmp_path, monkeypatch):
    """Nothing is read from or written to the user's Hugging Face home or cache."""
    import huggingface_hub.constants as constants

    home = tmp_path / "hf-home"
    monkeypatch.setenv("HF_HOME", str(home))
    monkeypatch.setenv("HF_HUB_DISABLE_TELEMETRY", "1")
    monkeypatch.delenv("HF_TOKEN", raising=False)
    monkeypatch.delenv("HF_HUB_OFFLINE", raising=False)
    # huggingface_hub reads these at import time; point the already-imported module at the test's home too.
    monkeypatch.setattr(constants, "HF_HOME", str(home))
    monkeypatch.setattr(constants, "HF_HUB_CACHE", str(home / "hub"))
    monkeypatch.setattr(constants, "HF_TOKEN_PATH", str(home / "token"))
    return home
