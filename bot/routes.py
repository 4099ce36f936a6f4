"""The routing table: which handlers run for which webhook event and action.

One line per route: (event, action or None for every action, "module:function"). Handlers are
imported only when an event needs them; a route whose module does not exist yet is skipped with one
warning, so engineers can add lines here before their handler lands.
"""

from __future__ import annotations

ROUTES: list[tuple[str, str | None, str]] = [
    # Validation of taxonomy PRs (check run, summary comment, labels).
    ("pull_request", "opened", "bot.handlers.pull_request:on_pull_request"),
    ("pull_request", "synchronize", "bot.handlers.pull_request:on_pull_request"),
    ("pull_request", "reopened", "bot.handlers.pull_request:on_pull_request"),
    ("pull_request", "ready_for_review", "bot.handlers.pull_request:on_pull_request"),
    ("check_run", "rerequested", "bot.handlers.pull_request:on_check_rerequested"),
    # App lifecycle: logged, never a crash.
    ("installation", None, "bot.handlers.installation:on_installation"),
    ("installation_repositories", None, "bot.handlers.installation:on_installation_repositories"),
    # Slash commands, jobs, retraining (the jobs engineer's handlers).
    ("issue_comment", "created", "bot.handlers.comments:on_comment_created"),
    ("pull_request", "synchronize", "bot.handlers.comments:on_pr_synchronize"),
    ("pull_request", "closed", "bot.handlers.comments:on_pr_closed"),
    ("push", None, "bot.handlers.push:on_push"),
    ("workflow_run", None, "bot.handlers.workflow:on_workflow_run"),
    ("workflow_job", None, "bot.handlers.workflow:on_workflow_job"),
]
