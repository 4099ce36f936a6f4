"""Arborist's GitHub App: webhook endpoint, router, handlers, slash commands, job store, executors.

The bot never imports generation or training code: those run as `ci` steps in another process.
"""
