"""The library's own expected failures: bad input or a bad environment the user can act on, never a bug.

Each subsystem's error class derives from LabError, so the `lab` command line can turn any of them
that a subcommand did not handle into one line and exit code 2, while real bugs keep their traceback.
"""

from __future__ import annotations


class LabError(Exception):
    """An expected failure; its message is one sentence that says what to do."""
