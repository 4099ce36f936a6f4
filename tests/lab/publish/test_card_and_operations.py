"""The pure parts of publishing: the operations list, the card, metric extraction, tags."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import pytest

from lab.publish import LeafChange, PublishError, ReleaseInfo, format_tag
from lab.publish.card import REQUIRED_METADATA, parse_front_matter, render_card
from lab.publish.evaluation import extract_metrics
from lab.publish.operations import plan_operations
from lab.publish.release import already_released, build_record, info_from_dict


def _info(**kw) -> ReleaseInfo:
    base = {"taxonomy_repo": "acme/taxonomy", "taxonomy_sha": "abcdef0123456789" * 2 + "abcdef01",
            "date": datetime(2026, 11, 25, tzinfo=UTC)}
    return ReleaseInfo(**{**base, **kw})


def test_operations_add_new_files_delete_stale_ones_and_write_the_record_last():
    ops = plan_operations({"release.json": b"{}", "README.md": b"card", "b.gguf": Path("/x/b.gguf"),
                           "a/config.json": b"{}"},
                          existing=[".gitattributes", "old.gguf", "b.gguf", "README.md"])
    assert [(op.kind, op.path) for op in ops] == [
        ("delete", "old.gguf"), ("add", "a/config.json"), ("add", "b.gguf"),
        ("add", "README.md"), ("add", "release.json")]


@pytest.mark.parametrize("bad", ["../escape", "/abs/path", "a/../../b", "a\\b", ""])
def test_operations_refuse_paths_outside_the_repository(bad):
    with pytest.raises(ValueError, match="invalid path"):
        plan_operations({bad: b"x"}, existing=[])


def test_card_survives_hostile_leaf_paths_and_attribution():
    hostile = "---\nlicense: stolen\n---\n``` | <script>alert(1)</script>"
    info = _info(leaves=[LeafChange("knowledge/a|b`c<i>/qna.yaml", "added", 7, "https://github.com/acme/taxonomy/pull/7")],
                 attributions={"knowledge/a": hostile}, base_model="base/model")
    card = render_card(info, "v1", "acme/model", ["model.safetensors"])
    meta = parse_front_matter(card)
    assert meta["license"] == "apache-2.0" and all(meta.get(k) for k in REQUIRED_METADATA)
    attribution = card.split("## Attribution")[1]
    assert "````text\n" + hostile + "\n````" in attribution  # fenced longer than any backtick run inside
    assert "| `knowledge/a\\|bc&lt;i>/qna.yaml` | added | [#7](https://github.com/acme/taxonomy/pull/7) |" in card


def test_card_without_evaluation_or_previous_release_says_so():
    card = render_card(_info(), "v1", "acme/model", [])
    assert "first release" in card and "No evaluation was recorded" in card
    assert "model-index" not in parse_front_matter(card)


@pytest.mark.parametrize("report, expected", [
    ({"accuracy": 0.5, "n": 40}, [("accuracy", 0.5, None, None)]),
    ({"metrics": {"rouge_l": {"value": 0.42, "ci": [0.3, 0.5], "n": 12, "baseline": 0.2,  # `lab evaluate`
                              "delta": {"value": 0.22, "ci": [0.1, 0.3], "verdict": "better"}},
                  "exact_match": {"value": 0.25, "ci": [0.0, 0.5], "n": 12}},
      "items": [{"question": "q", "answer": "a"}], "gate": {"passed": True}},
     [("rouge_l", 0.42, (0.3, 0.5), 0.2), ("exact_match", 0.25, (0.0, 0.5), None)]),
    ({"metrics": {"rouge_l": {"mean": 0.3, "ci_low": 0.2, "ci_high": 0.4}}}, [("rouge_l", 0.3, (0.2, 0.4), None)]),
    ({"scores": {"win_rate": {"value": 0.7, "ci": [0.6, 0.8], "baseline": {"value": 0.5}}}},
     [("win_rate", 0.7, (0.6, 0.8), 0.5)]),
    ({"metrics": {"acc": 0.8}, "baseline": {"metrics": {"acc": 0.6}}}, [("acc", 0.8, None, 0.6)]),
    ({"status": "ok", "notes": ["x"], "passed": True}, []),
    (None, []),
])
def test_metrics_are_read_from_the_shapes_an_evaluation_report_may_take(report, expected):
    assert [(m.name, m.value, m.ci, m.baseline) for m in extract_metrics(report)] == expected


def test_tag_format_is_configurable_and_sanitised():
    assert format_tag(_info(tag_format="v{date:%Y.%m.%d}-{short_sha}")) == "v2026.11.25-abcdef0"
    assert format_tag(_info(tag_format="release/{date:%Y%m%d} {sha}")) == "release-20261125-" + _info().taxonomy_sha
    # the spelling of .github/arborist.yml's release.tag_format, and the default
    assert format_tag(_info(tag_format="v{date}-{shortsha}")) == "v20261125-" + _info().taxonomy_sha[:7]
    assert format_tag(_info()) == "v20261125-" + _info().taxonomy_sha[:7]
    with pytest.raises(PublishError, match="tag_format"):
        format_tag(_info(tag_format="{nope}"))


def test_release_record_keeps_metrics_but_not_per_question_answers():
    record = build_record(_info(evaluation={"metrics": {"rouge_l": {"value": 0.4}}, "items": [{"q": 1}] * 500}),
                          "v1", None, ["README.md"])
    assert record["evaluation"] == {"metrics": {"rouge_l": {"value": 0.4}}}
    assert record["headline"] == {"name": "rouge_l", "value": 0.4, "ci": None}


def test_release_history_detects_an_old_taxonomy_sha():
    first = build_record(_info(taxonomy_sha="a" * 40), "v1", None, [])
    second = build_record(_info(taxonomy_sha="b" * 40), "v2", first, [])
    assert already_released(second, "a" * 40) == "v1"
    assert already_released(second, "b" * 40) == "v2"
    assert already_released(second, "c" * 40) is None


def test_the_gguf_record_opens_like_the_models_and_lists_the_earlier_gguf_releases_newest_first():
    from lab.publish.gguf_card import gguf_record
    from lab.publish.quants import GGUFSet

    ggufs = GGUFSet(files=[], prompt="What is a tree?", skipped={"Q4_K_M": "no llama-quantize"})
    first = gguf_record(_info(taxonomy_sha="a" * 40), "v1", "acme/model", ggufs, None)
    second = gguf_record(_info(taxonomy_sha="b" * 40), "v2", "acme/model", ggufs, first)
    model = build_record(_info(taxonomy_sha="b" * 40), "v2", None, [])
    opening = ("version", "tag", "date", "taxonomy_repo", "taxonomy_sha")
    assert list(second)[:5] == list(model)[:5] == list(opening)
    assert {k: second[k] for k in opening} == {k: model[k] for k in opening}
    assert second["history"] == [{"tag": "v1", "taxonomy_sha": "a" * 40, "date": first["date"]}]
    assert (second["base_model"], second["skipped"]) == ("acme/model", {"Q4_K_M": "no llama-quantize"})
    assert already_released(second, "a" * 40) == "v1"


def test_release_info_from_json_rejects_unknown_keys():
    info = info_from_dict({"taxonomy_repo": "a/b", "taxonomy_sha": "f" * 40,
                           "leaves": [{"path": "p/qna.yaml", "status": "added", "pr_number": 3}],
                           "date": "2026-11-25T10:00:00+00:00"})
    assert info.leaves[0].pr_number == 3 and info.date.year == 2026
    with pytest.raises(ValueError, match="unknown"):
        info_from_dict({"taxonomy_repo": "a/b", "taxonomy_sha": "f" * 40, "tokn": "x"})
