"""`arborist demo`: the whole loop on loopback, from a broken PR to a pulled release.

Modules: `timeline` (readable progress with elapsed seconds), `artefacts` (what the bot produced,
as Markdown/JSON), `repo` (a local taxonomy git repository), `procs` (child processes and threads,
always cleaned up), `leaves` (the story's taxonomy content), `story` (the steps).
"""
