"""Start-up of the validator, this checkout against a baseline commit, measured side by side in one run.

Two figures, each alternating HEAD and the baseline run by run (so load on the machine falls on both):
the import of lab.taxonomy.validate timed inside a fresh interpreter, and `lab validate` end to end on a
real taxonomy tree (wall time of the whole process). The baseline is exported with `git archive` into a
temporary folder (no worktree, nothing in the repository changes) and run with the same interpreter,
first on sys.path, so it imports its own `lab`; one uncounted run of each first writes its .pyc files. Prints medians, spreads and the ratio HEAD / baseline.

    .venv/bin/python benchmarks/validate_startup.py --base 744c041 --runs 15
"""

from __future__ import annotations

import argparse
import io
import os
import statistics
import subprocess
import sys
import tarfile
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
FIXTURES = Path(os.environ.get("ARBORIST_FIXTURES") or REPO.parent / "shared" / "fixtures")
IMPORT_CODE = ("import time; t = time.perf_counter(); import lab.taxonomy.validate; "
               "print(time.perf_counter() - t)")
WHERE_CODE = "import lab; print(lab.__file__)"


def export(commit: str, into: Path) -> Path:
    """The tree of `commit` unpacked under `into` (git archive: read-only for the repository)."""
    data = subprocess.run(["git", "archive", "--format=tar", commit], cwd=REPO, capture_output=True, check=True).stdout
    with tarfile.open(fileobj=io.BytesIO(data)) as tar:
        tar.extractall(into, filter="data")
    return into


def _env(checkout: Path) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if k != "PYTHONPATH"}
    return {**env, "PYTHONPATH": str(checkout)}


def import_seconds(checkout: Path) -> float:
    out = subprocess.run([sys.executable, "-c", IMPORT_CODE], cwd=checkout, env=_env(checkout),
                         capture_output=True, text=True, check=True)
    return float(out.stdout.strip())


def validate_seconds(checkout: Path, tree: Path) -> float:
    """Wall time of `lab validate --taxonomy TREE --format json` as a user runs it (exit 0 or 1 both count)."""
    started = time.perf_counter()
    done = subprocess.run([sys.executable, "-m", "lab.cli", "validate", "--taxonomy", str(tree), "--format", "json"],
                          cwd=checkout, env=_env(checkout), capture_output=True)
    elapsed = time.perf_counter() - started
    if done.returncode not in (0, 1):
        raise SystemExit(f"{checkout}: lab validate exited {done.returncode}: {done.stderr.decode()[-500:]}")
    return elapsed


def _line(name: str, head: list[float], base: list[float]) -> str:
    mh, mb = statistics.median(head), statistics.median(base)
    return (f"{name}: HEAD median {mh:.3f} s ({min(head):.3f}-{max(head):.3f}), base median {mb:.3f} s "
            f"({min(base):.3f}-{max(base):.3f}), ratio {mh / mb:.2f}")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--base", default="744c041", help="baseline commit (default 744c041: before pydantic configs)")
    parser.add_argument("--runs", type=int, default=15, help="runs of each checkout per figure (alternating)")
    parser.add_argument("--tree", type=Path, default=FIXTURES / "taxonomy", help="taxonomy root for the end-to-end run")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="arborist-base-") as tmp:
        base = export(args.base, Path(tmp))
        for checkout in (REPO, base):  # each imports its own lab
            where = subprocess.run([sys.executable, "-c", WHERE_CODE], cwd=checkout, env=_env(checkout),
                                   capture_output=True, text=True, check=True).stdout.strip()
            assert Path(where).resolve().is_relative_to(checkout.resolve()), (checkout, where)
            if args.tree.is_dir():  # warm-up, not counted: both checkouts get their .pyc files written
                validate_seconds(checkout, args.tree)
        figures: dict[str, tuple[list[float], list[float]]] = {"import": ([], []), "validate": ([], [])}
        for _ in range(args.runs):
            for index, checkout in enumerate((REPO, base)):
                figures["import"][index].append(import_seconds(checkout))
                if args.tree.is_dir():
                    figures["validate"][index].append(validate_seconds(checkout, args.tree))
    load = os.getloadavg()[0]
    print(f"HEAD vs {args.base}, {args.runs} alternating runs each, load average {load:.2f}")
    print(_line("import lab.taxonomy.validate", *figures["import"]))
    if figures["validate"][0]:
        leaves = sum(1 for _ in args.tree.rglob("qna.yaml"))
        print(_line(f"lab validate --taxonomy {args.tree.name} ({leaves} leaves)", *figures["validate"]))
    return 0


if __name__ == "__main__":
    sys.exit(main())
