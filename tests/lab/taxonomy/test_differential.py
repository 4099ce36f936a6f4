"""Differential test: mutated example leaves get the reference validator's verdict (no corpus needed)."""

from __future__ import annotations

import logging

import pytest

from lab.taxonomy import validate_files
from lab.taxonomy.discover import find_leaves
from lab.taxonomy.validate import read_regular_file

from .conftest import ATTRIBUTION, EXAMPLES
from .test_compat import STRICTER

pytestmark = pytest.mark.slow

MUTATIONS = {
    "version as text": lambda t: t.replace("version: 3", 'version: "3"'),
    "version 3.0": lambda t: t.replace("version: 3", "version: 3.0"),
    "version true": lambda t: t.replace("version: 3", "version: true"),
    "version empty": lambda t: t.replace("version: 3", "version:"),
    "version 2": lambda t: t.replace("version: 3", "version: 2"),
    "version 1": lambda t: t.replace("version: 3", "version: 1"),
    "version hex": lambda t: t.replace("version: 3", "version: 0x3"),
    "version octal-ish": lambda t: t.replace("version: 3", "version: 03"),
    "no version": lambda t: t.replace("version: 3\n", ""),
    "byte order mark": lambda t: "\ufeff" + t,
    "CRLF": lambda t: t.replace("\n", "\r\n"),
    "no final newline": lambda t: t.rstrip("\n"),
    "trailing space": lambda t: t.replace("\n", " \n", 1),
    "blank lines at end": lambda t: t + "\n\n\n",
    "yamllint disabled": lambda t: "# yamllint disable\n" + t.replace("\n", " \n", 3),
    "tab indent": lambda t: t.replace("\n  ", "\n\t", 1),
    "second document": lambda t: t + "---\nx: 1\n",
    "document markers": lambda t: "---\n" + t + "...\n",
    "yes as value": lambda t: t.replace("created_by: arborist-examples", "created_by: yes"),
    "duplicate key": lambda t: t.replace("created_by: arborist-examples", "created_by: a\ncreated_by: b"),
    "unknown key": lambda t: t + "extra: 1\n",
    "anchor": lambda t: t.replace("answer:", "answer: &a", 1),
    "capitalised key": lambda t: t.replace("question", "Question", 1),
    "block chomping": lambda t: t.replace("|\n", "|-\n", 1),
    "yaml directive": lambda t: "%YAML 1.1\n---\n" + t,
    "explicit str tag": lambda t: t.replace("answer: ", "answer: !!str ", 1),
    "binary tag": lambda t: t.replace("answer: ", "answer: !!binary ", 1),
    "date value": lambda t: t.replace("created_by: arborist-examples", "created_by: 2024-01-01"),
    "explicit key": lambda t: t.replace("created_by: arborist-examples", "? created_by\n: arborist-examples"),
    "merge key": lambda t: t + "<<: {zzz: 1}\n",
    "NEL character": lambda t: t + "x: \x85\n",
    "control character": lambda t: t + "x: \x07\n",
    "empty mapping": lambda t: "{}\n",
    "top-level list": lambda t: "- a\n",
    "empty": lambda t: "",
    "comment only": lambda t: "# only\n",
    "scalar": lambda t: '"text"\n',
}


@pytest.fixture(scope="module")
def reference():
    taxonomy = pytest.importorskip("instructlab.schema.taxonomy")
    yamllint_linter = pytest.importorskip("yamllint.linter")
    from yamllint.config import YamlLintConfig

    config = YamlLintConfig(taxonomy.DEFAULT_YAMLLINT_CONFIG)
    parser = taxonomy.TaxonomyParser(schema_version=0, message_format="LOGGING")
    parser.yq_available = False

    def lint_in_process(text, taxonomy):  # keyword names as the parser calls it
        for problem in yamllint_linter.run(text, config):
            (taxonomy.error if problem.level == "error" else taxonomy.warning)(problem.message)

    parser._yamllint = lint_in_process

    def verdict(path) -> bool:
        logging.disable(logging.CRITICAL)
        try:
            result = parser.parse(path)
        except taxonomy.TaxonomyReadingException:
            return False
        finally:
            logging.disable(logging.NOTSET)
        needs_attribution = isinstance(result.version, int) and result.version > 1
        return result.errors == 0 and not (needs_attribution and not (path.parent / "attribution.txt").exists())

    return verdict


def test_mutated_leaves_get_the_reference_verdict(tmp_path, reference):
    bases = {leaf: (EXAMPLES / leaf).read_text(encoding="utf-8") for leaf in find_leaves(EXAMPLES)}
    bases["foundational_skills/plain/qna.yaml"] = bases["compositional_skills/writing/freeform/haiku/qna.yaml"]
    cases = []
    for name, mutate in MUTATIONS.items():
        for leaf, text in bases.items():
            for with_attribution in (True, False):
                rel = f"{name.replace(' ', '_')}_{with_attribution}/{leaf}"
                file = tmp_path / rel
                file.parent.mkdir(parents=True)
                file.write_bytes(mutate(text).encode("utf-8"))
                if with_attribution:
                    (file.parent / "attribution.txt").write_bytes(ATTRIBUTION)
                cases.append((name, rel))
    reports = validate_files([rel for _, rel in cases], lambda p: read_regular_file(tmp_path / p, 10_000_000))
    differences = []
    for (name, rel), report in zip(cases, reports, strict=True):
        errors = {f.rule for f in report.findings if f.severity == "error"}
        theirs = reference(tmp_path / rel)
        if report.valid != theirs and not (theirs and errors <= set(STRICTER)):
            differences.append((name, rel, theirs, sorted(errors)))
    assert differences == []
    assert len(cases) == len(MUTATIONS) * len(bases) * 2
