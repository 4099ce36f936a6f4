"""Each card's metadata uses the Hub's model-card and dataset-card fields, and huggingface_hub reads it back."""

from __future__ import annotations

import inspect
from datetime import UTC, datetime
from pathlib import Path

from huggingface_hub import DatasetCard, DatasetCardData, ModelCard, ModelCardData

from lab.evaluate.compare import IMPROVED, REGRESSED
from lab.generate.prompts import TRAINING_SYSTEM_PROMPT
from lab.publish import LeafChange, ReleaseInfo
from lab.publish.card import parse_front_matter, render_card
from lab.publish.data_card import render_data_card
from lab.publish.gguf_card import render_gguf_card
from lab.publish.quants import GGUFFile, GGUFSet

NOT_FIELDS = {"ignore_metadata_errors", "kwargs", "eval_results", "model_name", "train_eval_index", "config_names"}
# Documented on the Hub's card specs but not constructor arguments of huggingface_hub's card data classes.
MODEL_EXTRAS = {"model-index", "base_model_relation"}
DATASET_EXTRAS = {"tags", "configs"}


def _fields(cls, extras: set[str]) -> set[str]:
    return set(inspect.signature(cls).parameters) - NOT_FIELDS | extras


def _info() -> ReleaseInfo:
    return ReleaseInfo(taxonomy_repo="acme/taxonomy", taxonomy_sha="ab" * 20, previous_taxonomy_sha="cd" * 20,
                       leaves=[LeafChange("knowledge/mars/qna.yaml", "added", 3, "https://github.com/acme/taxonomy/pull/3")],
                       evaluation={"metrics": {"rouge_l": {"value": 0.41, "ci": [0.3, 0.5]},
                                               "exact_match": {"value": 0.2, "ci": [0.1, 0.3]}}},
                       base_model="acme/student", datasets=["acme/model-data"],
                       date=datetime(2026, 11, 25, tzinfo=UTC))


def _ggufs() -> GGUFSet:
    return GGUFSet([GGUFFile("model-Q4_K_M.gguf", Path("unused"), "Q4_K_M", 1234, "Two moons.", "30 Q4_K")],
                   "How many moons has Mars?", {"Q5_K_M": "cannot make Q5_K_M for this model"})


def test_model_card_metadata_is_hub_fields_and_model_index_reads_back_as_eval_results():
    card = render_card(_info(), "v1", "acme/model", ["model.safetensors"], ggufs=_ggufs(), gguf_repo="acme/model-GGUF")
    meta = parse_front_matter(card)
    assert set(meta) <= _fields(ModelCardData, MODEL_EXTRAS)
    data = ModelCard(card).data
    assert data.base_model == "acme/student" and data.base_model_relation == "finetune"
    assert data.datasets == ["acme/model-data"]
    assert {(r.metric_type, r.metric_value) for r in data.eval_results} == {("rouge_l", 0.41), ("exact_match", 0.2)}
    assert all(r.dataset_revision == "ab" * 20 for r in data.eval_results)


def test_gguf_card_metadata_is_hub_fields_and_names_the_release_as_quantized_base():
    card = render_gguf_card(_info(), "v1", "acme/model", "acme/model-GGUF", _ggufs())
    meta = parse_front_matter(card)
    assert set(meta) <= _fields(ModelCardData, MODEL_EXTRAS)
    data = ModelCard(card).data
    assert data.base_model == "acme/model" and data.base_model_relation == "quantized"
    assert "gguf" in data.tags
    assert "| `model-Q4_K_M.gguf` | Q4_K_M | 1.2 KB | 30 Q4_K | Two moons. |" in card
    assert "Q5_K_M was not made: cannot make Q5_K_M for this model" in card


def test_dataset_card_metadata_is_hub_fields_with_configs_the_viewer_reads():
    manifest = {"teacher": "gguf:smollm2@b179c952", "prompt_version": "p7", "rows": 1500, "version": 1,
                "leaves": [{"leaf": "knowledge/mars/qna.yaml", "leaf_hash": "f" * 64, "rows": 1500,
                            "attempted": 2000, "keep_rate": 0.75, "filters": {"echo": {"seen": 2000, "kept": 1500}}}]}
    card = render_data_card(_info(), "v1", "acme/model", manifest, {"arborist": "0.1.0"})
    meta = parse_front_matter(card)
    assert set(meta) <= _fields(DatasetCardData, DATASET_EXTRAS)
    data = DatasetCard(card).data
    assert data.size_categories == ["1K<n<10K"] and data.annotations_creators == ["machine-generated"]
    assert [c["config_name"] for c in meta["configs"]] == ["knowledge", "skills"]
    assert "| echo | 2,000 | 1,500 | 75% |" in card and "[#3](https://github.com/acme/taxonomy/pull/3)" in card
    assert '"rai:hasSyntheticData": true' in card


def _paragraph(card: str, heading: str) -> str:
    """The one paragraph under `heading`; fails when it is not exactly one."""
    section = card.split(heading + "\n\n", 1)[1].split("\n## ", 1)[0].strip()
    assert "\n" not in section, section
    return section


def test_card_says_what_changed_how_to_run_it_and_its_known_limits():
    info = _info()
    info.leaves.append(LeafChange("compositional_skills/haiku/qna.yaml", "modified", 9, ""))
    info.data_counts = {"knowledge": 900, "skills": 300}
    info.evaluation["leaves"] = [{"leaf": "knowledge/mars/qna.yaml", "verdict": REGRESSED},  # lab evaluate's words
                                 {"leaf": "knowledge/venus/qna.yaml", "verdict": IMPROVED}]
    info.evaluation["gate"] = {"decision": "pass", "reason": "rouge_l improved by +0.110"}
    previous = {"tag": "v0", "data_counts": {"knowledge": 500}, "evaluation": {"metrics": {"rouge_l": {"value": 0.3}}}}
    ggufs = GGUFSet([GGUFFile("model-Q4_K_M.gguf", Path("unused"), "Q4_K_M", 1234, "Two.",
                              "13 Q5_0 (13 of 13 matrices used a fallback type)")], "q", {})
    card = render_card(info, "v1", "acme/model", [], previous=previous, ggufs=ggufs, gguf_repo="acme/model-GGUF")
    changed = _paragraph(card, "## What changed since v0")
    assert "added `knowledge/mars/qna.yaml` ([#3](https://github.com/acme/taxonomy/pull/3))" in changed
    assert "changed `compositional_skills/haiku/qna.yaml` (#9)" in changed
    assert "1,200 samples (knowledge 900, skills 300; 500 in v0)" in changed
    assert "rouge_l went from 0.300 to 0.410 (95% CI 0.300-0.500), +0.110" in changed
    assert "The release gate passed: rouge_l improved by +0.110." in changed
    assert "llama-cli -hf acme/model-GGUF:Q4_K_M" in card and "ollama run hf.co/acme/model-GGUF:Q4_K_M" in card
    assert 'AutoModelForCausalLM.from_pretrained("acme/model", revision="v1")' in card
    assert '{"role": "system", "content": "' + TRAINING_SYSTEM_PROMPT + '"}' in card  # chat as it was trained
    limits = card.split("## Known limits")[1].split("##")[0]
    assert "Regressed against the baseline on 1 leaf(s): `knowledge/mars/qna.yaml`" in limits and "venus" not in limits
    assert "Q4_K_M: the model's rows are not a multiple of 256" in limits and "`acme/student`" in limits
    assert "| rouge_l | 0.410 | [0.300, 0.500] | 0.300 | +0.110 |" in card  # the evaluation table, with intervals


def test_what_changed_is_honest_when_no_leaf_changed_and_names_only_a_few_of_many_leaves():
    info = _info()
    info.leaves = []
    info.previous_taxonomy_sha = info.taxonomy_sha
    card = render_card(info, "v2", "acme/model", [], previous={"tag": "v1"})
    retrain = _paragraph(card, "## What changed since v1")
    assert retrain.startswith("Nothing changed in the taxonomy since v1 (same commit `abababababab`): this is a retrain.")
    info.leaves = [LeafChange(f"knowledge/topic{i}/qna.yaml", "added", i, "") for i in range(40)]
    info.previous_taxonomy_sha = "cd" * 20
    many = _paragraph(render_card(info, "v2", "acme/model", [], previous={"tag": "v1"}), "## What changed since v1")
    assert "`knowledge/topic5/qna.yaml` (#5)" in many and "topic6/" not in many and "and 34 more" in many


def test_first_release_card_says_what_it_learned_and_how_it_compares_with_its_base_model():
    info = _info()
    info.previous_taxonomy_sha = None
    info.evaluation = {"metrics": {"rouge_l": {"value": 0.41, "ci": [0.3, 0.5], "baseline": 0.25}},
                       "gate": {"decision": "block", "reason": "1 leaf regressed: knowledge/mars/qna.yaml"}}
    paragraph = _paragraph(render_card(info, "v1", "acme/model", []), "## What is in this first release")
    assert paragraph.startswith("This is the first release of this model: it learned the taxonomy's leaves, added "
                                "`knowledge/mars/qna.yaml` ([#3](https://github.com/acme/taxonomy/pull/3)).")
    assert "rouge_l 0.410 (95% CI 0.300-0.500) against 0.250 for the base model, +0.160" in paragraph
    assert paragraph.endswith("The release gate blocked: 1 leaf regressed: knowledge/mars/qna.yaml.")
