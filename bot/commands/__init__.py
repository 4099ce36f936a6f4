"""Slash commands: one registry of specs, a strict parser, the guards, and the command handlers."""
