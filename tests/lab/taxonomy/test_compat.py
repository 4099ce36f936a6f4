"""Compatibility with the reference validator over the real corpus (ARBORIST_FIXTURES).

The reference is the `instructlab-schema` package's TaxonomyParser (schema version from each file's
`version:`), plus the taxonomy CI's extra rule (attribution.txt required for version > 1). Its
yamllint step runs in-process here (same library, same config) instead of one subprocess per file.
"""

from __future__ import annotations

import logging
from pathlib import Path

import pytest

from lab.taxonomy import validate_files
from lab.taxonomy.lint import YAMLLINT_IDS, lint_issues
from lab.taxonomy.validate import read_regular_file

pytestmark = [pytest.mark.corpus, pytest.mark.slow]

CORPUS_DIRS = ("taxonomy", "taxonomy-history", "taxonomy-prs", "instructlab-schema/tests")
# Our rules that reject files the reference accepts, each on purpose (see docs/rules.md).
STRICTER = {
    "document-commit": "a short SHA, a URL or prose instead of a full commit SHA",
    "document-repo": "a non-https or private document URL",
    "document-pattern": "a pattern that leaves the document repository",
    "duplicate-key": "PyYAML keeps the last value; yamllint checks it only for version >= 2",
    "empty-file": "the reference only warns about an empty file",
    "attribution-empty": "the reference only needs the file to exist",
    "too-many-values": "hostile-input bound",
    "too-many-items": "hostile-input bound",
    "nesting-depth": "hostile-input bound",
    "line-too-long": "hostile-input bound",
    "file-too-large": "hostile-input bound",
    "attribution-too-large": "hostile-input bound",
    "format-character-key": "an invisible character makes a key other than it looks",
    "lookalike-key": "a key in look-alike letters is not the key it looks like",
}


@pytest.fixture(scope="module")
def reference():
    reference_module = pytest.importorskip("instructlab.schema.taxonomy")
    yamllint_linter = pytest.importorskip("yamllint.linter")
    from yamllint.config import YamlLintConfig

    config = YamlLintConfig(reference_module.DEFAULT_YAMLLINT_CONFIG)
    parser = reference_module.TaxonomyParser(schema_version=0, message_format="LOGGING")
    parser.yq_available = False  # line numbers only; the verdict does not depend on them

    def lint_in_process(text, taxonomy):  # keyword names as the parser calls it
        for problem in yamllint_linter.run(text, config):
            (taxonomy.error if problem.level == "error" else taxonomy.warning)(problem.message)

    parser._yamllint = lint_in_process

    def verdict(path: Path) -> bool:
        logging.disable(logging.CRITICAL)
        try:
            result = parser.parse(path)
        except reference_module.TaxonomyReadingException:
            return False
        finally:
            logging.disable(logging.NOTSET)
        errors = result.errors
        if isinstance(result.version, int) and result.version > 1 and not (path.parent / "attribution.txt").exists():
            errors += 1  # the taxonomy CI's check-yaml rule
        return errors == 0

    return verdict


def _corpus_files(root: Path) -> list[Path]:
    files = [p for d in CORPUS_DIRS if (root / d).is_dir() for p in sorted((root / d).rglob("*"))
             if p.suffix in (".yaml", ".yml") and p.is_file()]
    if not files:
        pytest.skip(f"no taxonomy files under {root}")
    return files


def test_our_verdicts_match_the_reference_apart_from_listed_stricter_rules(shared_fixtures, reference):
    files = _corpus_files(shared_fixtures)
    rel = [p.relative_to(shared_fixtures).as_posix() for p in files]
    reports = validate_files(rel, lambda p: read_regular_file(shared_fixtures / p, 10_000_000))
    accepted_by_both = rejected_by_both = 0
    laxer, unexplained, stricter = [], [], {}
    for path, report in zip(files, reports, strict=True):
        ours_ok = report.valid
        theirs_ok = reference(path)
        errors = {f.rule for f in report.findings if f.severity == "error"}
        if ours_ok and theirs_ok:
            accepted_by_both += 1
        elif not ours_ok and not theirs_ok:
            rejected_by_both += 1
        elif ours_ok:
            laxer.append(report.path)
        elif errors - set(STRICTER):
            unexplained.append((report.path, sorted(errors)))
        else:
            for rule in errors:
                stricter[rule] = stricter.get(rule, 0) + 1
    assert laxer == [], "files the reference rejects but we accept"
    assert unexplained == [], "files we reject only by rules the reference shares"
    assert len(files) > 800 and accepted_by_both > 300 and rejected_by_both > 150
    assert set(stricter) <= set(STRICTER)


def test_in_process_lint_reports_exactly_what_yamllint_reports(shared_fixtures):
    yaml = pytest.importorskip("yaml")
    linter = pytest.importorskip("yamllint.linter")
    from yamllint.config import YamlLintConfig

    config = YamlLintConfig("{extends: relaxed, rules: {line-length: disable}}")
    theirs_to_ours = {v: k for k, v in YAMLLINT_IDS.items()}
    compared = 0
    for path in _corpus_files(shared_fixtures):
        try:
            text = path.read_text(encoding="utf-8")
            yaml.load(text, Loader=yaml.CSafeLoader)
        except (UnicodeDecodeError, yaml.YAMLError):
            continue  # unparseable: the loader stops before linting
        theirs = {(theirs_to_ours[p.rule], p.line, p.column) for p in linter.run(text, config)
                  if p.rule in theirs_to_ours}
        ours = {(i.rule, i.line, i.col) for i in lint_issues(text)}
        assert ours == theirs, path
        compared += 1
    assert compared > 700


def test_fast_schema_check_agrees_with_jsonschema_on_every_corpus_file(shared_fixtures):
    from lab.taxonomy.config import Limits
    from lab.taxonomy.loader import load_yaml
    from lab.taxonomy.schema import SUPPORTED, fast_check, validator

    compared = 0
    for path in _corpus_files(shared_fixtures):
        loaded = load_yaml(path.read_bytes(), Limits(max_file_bytes=10_000_000))
        if loaded.fatal or not isinstance(loaded.data, dict):
            continue
        for kind, version in SUPPORTED:
            assert fast_check(kind, version)(loaded.data) == validator(kind, version).is_valid(loaded.data), path
            compared += 1
    assert compared > 3000


def test_lab_validate_over_the_whole_corpus_stays_under_200_mb(shared_fixtures):
    import subprocess
    import sys

    paths = [str(shared_fixtures / d) for d in CORPUS_DIRS if (shared_fixtures / d).is_dir()]
    # VmHWM is this process's own peak: ru_maxrss would carry over the peak of the pytest process
    # that forked it (Linux keeps it across exec), which holds torch when the whole suite runs.
    code = ("import io, contextlib, re\nfrom lab.cli import main\n"
            "with contextlib.redirect_stdout(io.StringIO()):\n"
            f"    rc = main(['validate', '--format', 'json', *{paths!r}])\n"
            "hwm = re.search(r'VmHWM:\\s+(\\d+)', open('/proc/self/status').read()).group(1)\n"
            "print(rc, int(hwm) // 1024)\n")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    rc, peak_mb = map(int, out.stdout.split())
    assert rc == 1  # the corpus holds real mistakes
    assert peak_mb < 200
