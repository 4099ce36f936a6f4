"""`arborist`: run the GitHub App (`serve`), a job worker (`worker`), or the whole loop (`demo`).

Like `lab`, each subcommand is a module with `add_arguments(parser)` and `run(args) -> int`,
imported only when needed.
"""

from __future__ import annotations

import sys

from lab.cli import build_parser, dispatch
from schemas.masking import install_log_masking

SUBCOMMANDS: dict[str, tuple[str, str]] = {
    "serve": ("bot.entry.serve", "serve the webhook endpoint (FastAPI under uvicorn)"),
    "worker": ("bot.entry.worker", "claim and run queued jobs on this machine (one per GPU)"),
    "demo": ("bot.entry.demo", "play the whole loop locally: PR, checks, /generate, merge, retrain, release"),
}


def main(argv: list[str] | None = None) -> int:
    install_log_masking()  # serve and worker logs never carry a secret, whichever handler writes them
    return dispatch(build_parser("arborist", "Arborist, the GitHub App.", SUBCOMMANDS), argv)


if __name__ == "__main__":
    sys.exit(main())
