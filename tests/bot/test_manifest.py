"""The App manifest asks for exactly what the bot uses: the routed events and the least permissions."""

from __future__ import annotations

import json
from pathlib import Path

import bot
from bot.routes import default_router

MANIFEST = Path(bot.__file__).parent / "app-manifest.json"
ALWAYS_DELIVERED = {"installation", "installation_repositories"}  # GitHub sends these to every App


def test_manifest_subscribes_to_exactly_the_routed_events():
    manifest = json.loads(MANIFEST.read_text())
    routed = default_router().events() - ALWAYS_DELIVERED
    assert set(manifest["default_events"]) == routed


def test_manifest_permissions_are_least_privilege():
    permissions = json.loads(MANIFEST.read_text())["default_permissions"]
    assert permissions == {"metadata": "read", "contents": "read", "checks": "write", "pull_requests": "write",
                           "actions": "write", "members": "read"}
    assert "administration" not in permissions and permissions["contents"] == "read"
