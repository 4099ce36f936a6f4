"""`python -m ci`: list the steps a runner can execute (each is `python -m ci.<step> --help`)."""

from __future__ import annotations

import sys

STEPS = {
    "generate": "synthetic data for the changed leaves of one PR, at one commit, read as data",
    "precheck": "the current model answers the seed questions of one PR's changed leaves, scored",
    "preview": "a LoRA adapter trained on one PR's generated data, compared with the current model",
    "retrain": "retrain, evaluate and release from the whole taxonomy at one default-branch commit",
}


def main(argv: list[str] | None = None) -> int:
    print("Arborist ci steps (run one with `python -m ci.<step> --help`):")
    for name, text in STEPS.items():
        print(f"  {name:10} {text}")
    print("Progress and results go back as `::arborist-progress::` / `::arborist-result::` lines (see ci/report.py).")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
