"""The generate -> train contract (schemas.datacontract): what generation writes is what training reads."""

from __future__ import annotations

import json

import pytest

from lab.generate import GenerateParams, ScriptedBackend, generate_leaves
from lab.generate.documents import DocsSettings
from lab.train.data import load_data_dir, read_messages
from schemas.datacontract import MANIFEST_FILE, MERGED_FILES, check_record, leaf_file, merged_file


def test_every_generated_row_keeps_the_contract_and_training_reads_them_all(
        tmp_path, freeform_leaf, grounded_leaf, knowledge_leaf):
    docs = DocsSettings(cache_dir=tmp_path / "docs", allow_local=True)
    out = tmp_path / "out"
    manifest = generate_leaves([freeform_leaf, grounded_leaf, knowledge_leaf], ScriptedBackend(), out,
                               GenerateParams(samples=2, max_attempts_factor=6.0), cache_dir=tmp_path / "cache",
                               docs=docs)
    assert (out / MANIFEST_FILE).is_file()
    rows = {name: [json.loads(line) for line in (out / name).read_text().splitlines()] for name in MERGED_FILES}
    for name, records in rows.items():
        for number, record in enumerate(records, start=1):
            assert check_record(record, f"{name}:{number}") is record
            assert merged_file(record["metadata"]["kind"]) == name  # each kind in its phase's file
    for result in manifest.leaves:
        assert len(read_messages(out / leaf_file(result.leaf_id))) == result.rows == 2
    knowledge, skills = load_data_dir(out)
    assert (len(knowledge), len(skills)) == (len(rows[MERGED_FILES[0]]), len(rows[MERGED_FILES[1]])) == (2, 4)


@pytest.mark.parametrize(("record", "says"), [
    ({"messages": []}, "non-empty 'messages'"),
    ({"messages": [{"role": "tool", "content": "x"}]}, "role in"),
    ({"messages": [{"role": "user", "content": 3}]}, "string content"),
    ({"messages": [{"role": "user", "content": "only a question"}]}, "no assistant message"),
    (["not", "an", "object"], "non-empty 'messages'"),
])
def test_a_row_outside_the_contract_is_refused_naming_where(record, says):
    with pytest.raises(ValueError, match=says) as info:
        check_record(record, "skills_train_msgs.jsonl:7")
    assert str(info.value).startswith("skills_train_msgs.jsonl:7: ")
