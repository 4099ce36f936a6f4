"""Benchmark: `lab.taxonomy` vs the reference validator (instructlab-schema) over the shared corpus.

Runs, in one process and on the same files: the reference TaxonomyParser exactly as the taxonomy
CI uses it (yamllint and yq as subprocesses, attribution.txt rule of check-yaml.py), Arborist's
validate_files, and a bare PyYAML C-loader parse of the same bytes (the floor). Prints medians,
files/s, ratios and verdict agreement; then peak memory and start-up time of `lab validate`.

    .venv/bin/python benchmarks/validate_corpus.py [--repeat 9] [--reference-repeat 3]

The corpus is found through ARBORIST_FIXTURES (default ../shared/fixtures beside the checkout).
"""

from __future__ import annotations

import argparse
import logging
import os
import statistics
import subprocess
import sys
import time
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))
CORPUS_DIRS = ("taxonomy", "taxonomy-history", "taxonomy-prs", "instructlab-schema/tests")
MAX_BYTES = 10_000_000


def corpus(root: Path) -> list[Path]:
    return [p for d in CORPUS_DIRS if (root / d).is_dir() for p in sorted((root / d).rglob("*"))
            if p.suffix in (".yaml", ".yml") and p.is_file()]


def reference_run(files: list[Path], in_process_lint: bool = False) -> dict[Path, bool]:
    """The reference verdicts: TaxonomyParser(schema_version=0) + check-yaml.py's attribution rule.

    yq is turned off: the `yq` on PATH here is the jq wrapper, which cannot run the parser's
    `| line` expressions (each call fails after spawning a process). yamllint runs as the reference
    runs it (a subprocess per version >= 2 file) or, with in_process_lint, as a library call.
    """
    from instructlab.schema.taxonomy import DEFAULT_YAMLLINT_CONFIG, TaxonomyParser, TaxonomyReadingException

    parser = TaxonomyParser(schema_version=0, message_format="LOGGING")
    parser.yq_available = False
    if in_process_lint:
        from yamllint import linter
        from yamllint.config import YamlLintConfig

        config = YamlLintConfig(DEFAULT_YAMLLINT_CONFIG)

        def lint(text, taxonomy):
            for problem in linter.run(text, config):
                (taxonomy.error if problem.level == "error" else taxonomy.warning)(problem.message)

        parser._yamllint = lint  # type: ignore[method-assign]
    verdicts = {}
    for path in files:
        try:
            result = parser.parse(path)
            ok = result.errors == 0
            if isinstance(result.version, int) and result.version > 1:
                ok = ok and (path.parent / "attribution.txt").exists()
        except TaxonomyReadingException:
            ok = False
        verdicts[path] = ok
    return verdicts


def ours_run(root: Path, files: list[Path]) -> dict[Path, tuple[bool, set[str]]]:
    from lab.taxonomy import validate_files
    from lab.taxonomy.validate import read_regular_file

    rel = [p.relative_to(root).as_posix() for p in files]
    reports = validate_files(rel, lambda p: read_regular_file(root / p, MAX_BYTES))
    return {path: (r.valid, {f.rule for f in r.errors}) for path, r in zip(files, reports, strict=True)}


def parse_only(files: list[Path]) -> int:
    """The floor: read each file and load it with PyYAML's C loader, nothing else."""
    import yaml

    parsed = 0
    for path in files:
        try:
            yaml.load(path.read_bytes().decode("utf-8"), Loader=yaml.CSafeLoader)
            parsed += 1
        except (UnicodeDecodeError, yaml.YAMLError):
            pass
    return parsed


def timed(fn, repeat: int) -> tuple[float, object]:
    times, result = [], None
    for _ in range(repeat):
        started = time.perf_counter()
        result = fn()
        times.append(time.perf_counter() - started)
    return statistics.median(times), result


def child_figures(root: Path) -> tuple[float, list[str], float]:
    """Peak RSS (MB) and heavy modules of `lab validate` over the corpus; median start-up on one file."""
    paths = [str(root / d) for d in CORPUS_DIRS if (root / d).is_dir()]
    code = ("import resource, sys, io, contextlib\n"
            "from lab.cli import main\n"
            "with contextlib.redirect_stdout(io.StringIO()):\n"
            f"    main(['validate', '--format', 'json', *{paths!r}])\n"
            "heavy = [m for m in ('torch', 'transformers', 'peft', 'llama_cpp') if m in sys.modules]\n"
            "print(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, ','.join(heavy))\n")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=REPO, check=True)
    peak, _, heavy = out.stdout.strip().partition(" ")
    startups = []
    example = REPO / "examples" / "taxonomy" / "compositional_skills" / "writing" / "freeform" / "haiku" / "qna.yaml"
    for _ in range(5):
        started = time.perf_counter()
        subprocess.run([sys.executable, "-m", "lab.cli", "validate", str(example)], capture_output=True, cwd=REPO)
        startups.append(time.perf_counter() - started)
    return float(peak), [h for h in heavy.split(",") if h], statistics.median(startups)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=9, help="runs of ours and of the parse floor (median)")
    parser.add_argument("--reference-repeat", type=int, default=3,
                        help="runs of the in-process reference, interleaved with ours (0: skip the reference)")
    args = parser.parse_args()
    root = Path(os.environ.get("ARBORIST_FIXTURES", REPO.parent / "shared" / "fixtures")).resolve()
    files = corpus(root)
    if not files:
        print(f"no corpus at {root} (set ARBORIST_FIXTURES)", file=sys.stderr)
        return 2
    os.environ["PATH"] = f"{Path(sys.executable).parent}{os.pathsep}{os.environ.get('PATH', '')}"  # yamllint
    logging.disable(logging.CRITICAL)
    size = sum(p.stat().st_size for p in files)
    print(f"corpus: {len(files)} files, {size / 1e6:.2f} MB under {root}; "
          f"load average {os.getloadavg()[0]:.1f} on {os.cpu_count()} cores")
    ours_run(root, files[:100])  # warm-up: imports, compiled schemas
    parse_only(files[:100])
    ours_times, parse_times, lib_times, ours, ref_lib = [], [], [], {}, {}
    for i in range(max(args.repeat, args.reference_repeat)):  # interleaved: all see the same machine load
        if i < args.repeat:
            t_ours, ours = timed(lambda: ours_run(root, files), 1)
            t_parse, _ = timed(lambda: parse_only(files), 1)
            ours_times.append(t_ours)
            parse_times.append(t_parse)
        if i < args.reference_repeat:
            t_lib, ref_lib = timed(lambda: reference_run(files, in_process_lint=True), 1)
            lib_times.append(t_lib)
    t_ours, t_parse = statistics.median(ours_times), statistics.median(parse_times)
    n = len(files)
    rows = [("arborist validate_files", t_ours), ("PyYAML CSafeLoader parse only", t_parse)]
    if args.reference_repeat > 0:
        t_ref, ref = timed(lambda: reference_run(files), 1)  # one run: it spawns a process per file
        t_ref_lib = statistics.median(lib_times)
        assert ref == ref_lib, "in-process yamllint changed a reference verdict"
        rows[:0] = [("reference, yamllint subprocess", t_ref), ("reference, yamllint in-process", t_ref_lib)]
    print(f"{'':32}{'median s':>9}{'files/s':>9}")
    for name, seconds in rows:
        print(f"{name:32}{seconds:9.3f}{n / seconds:9.0f}")
    print(f"cost vs bare C parse: {t_ours / t_parse:.2f}x")
    if args.reference_repeat <= 0:
        return 0
    print(f"speed-up vs reference: {t_ref / t_ours:.0f}x (yamllint subprocess), "
          f"{t_ref_lib / t_ours:.1f}x (yamllint in-process)")
    same = sum(ref[p] == ours[p][0] for p in files)
    stricter: dict[str, int] = {}
    laxer = []
    for p in files:
        if ref[p] and not ours[p][0]:
            for rule in ours[p][1]:
                stricter[rule] = stricter.get(rule, 0) + 1
        elif ours[p][0] and not ref[p]:
            laxer.append(p)
    print(f"verdicts: {same}/{n} identical; we accept {len(laxer)} file(s) the reference rejects; "
          f"stricter rules: {dict(sorted(stricter.items())) or 'none'}")
    peak, heavy, startup = child_figures(root)
    print(f"lab validate over the corpus: peak RSS {peak:.0f} MB; heavy modules imported: {heavy or 'none'}")
    print(f"lab validate start-up (one small file, median of 5): {startup:.3f} s")
    return 0


if __name__ == "__main__":
    sys.exit(main())
