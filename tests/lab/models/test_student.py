"""A GGUF student becomes a plain Hugging Face folder that computes what the original model did."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from lab.models.gguf_export import export_gguf
from lab.models.package import SMOLLM2_135M_INSTRUCT, cached_path
from lab.models.student import DONE_MARKER, StudentError, gguf_to_hf, resolve_student
from sandbox.standins.hub import HubStandIn
from tests.hf_home import isolated_hf_home  # noqa: F401  (autouse fixture)

QUESTION = [{"role": "user", "content": "What is the capital of France? ü ✓"}]
TOKEN = "hf_test_token_for_the_standin"


@pytest.fixture(scope="module")
def tied_original(tiny_llama_dir, tmp_path_factory) -> Path:
    """The tiny Llama with tied input/output embeddings, as SmolLM2 has them."""
    from transformers import AutoModelForCausalLM, AutoTokenizer

    model = AutoModelForCausalLM.from_pretrained(tiny_llama_dir)
    model.config.tie_word_embeddings = True
    model.lm_head.weight = model.model.embed_tokens.weight
    out = tmp_path_factory.mktemp("tied-original")
    model.save_pretrained(out)
    AutoTokenizer.from_pretrained(tiny_llama_dir).save_pretrained(out)
    return out


@pytest.fixture(scope="module")
def tied_gguf(tied_original, tmp_path_factory) -> Path:
    return export_gguf(tied_original, tmp_path_factory.mktemp("gguf") / "tiny-tied-f32.gguf", dtype="f32")


def _logits(model_dir: Path, ids: list[int]):
    import torch
    from transformers import AutoModelForCausalLM

    model = AutoModelForCausalLM.from_pretrained(model_dir).eval()
    with torch.no_grad():
        return model(input_ids=torch.tensor([ids])).logits[0]


def _prompt_ids(model_dir: Path) -> tuple[str, list[int]]:
    from transformers import AutoTokenizer

    tokenizer = AutoTokenizer.from_pretrained(model_dir)
    text = tokenizer.apply_chat_template(QUESTION, add_generation_prompt=True, tokenize=False)
    return text, tokenizer(text, add_special_tokens=False).input_ids


def test_converted_gguf_gives_the_original_models_logits_tokens_and_template(tied_original, tied_gguf, tmp_path):
    out = gguf_to_hf(tied_gguf, tmp_path / "models")
    original_text, original_ids = _prompt_ids(tied_original)
    text, ids = _prompt_ids(out)
    assert (text, ids) == (original_text, original_ids)  # tokenizer and chat template survived
    expected, got = _logits(tied_original, ids), _logits(out, ids)
    assert (got - expected).abs().max().item() < 1e-4
    assert got.argmax(-1).tolist() == expected.argmax(-1).tolist()


def test_converted_folder_is_plain_float32_with_tied_embeddings(tied_gguf, tmp_path):
    from safetensors import safe_open
    from transformers import AutoModelForCausalLM

    out = gguf_to_hf(tied_gguf, tmp_path / "models")
    config = json.loads((out / "config.json").read_text())
    assert "quantization_config" not in config and config["tie_word_embeddings"] is True
    with safe_open(str(out / "model.safetensors"), "pt") as weights:
        names = set(weights.keys())
        assert {str(weights.get_tensor(n).dtype) for n in names} == {"torch.float32"}
    assert "lm_head.weight" not in names
    model = AutoModelForCausalLM.from_pretrained(out)
    assert model.lm_head.weight.data_ptr() == model.model.embed_tokens.weight.data_ptr()


def test_second_conversion_is_a_cache_hit_keyed_by_the_gguf_hash(tied_gguf, tmp_path, monkeypatch):
    first = gguf_to_hf(tied_gguf, tmp_path / "models")
    assert json.loads((first / DONE_MARKER).read_text())["gguf"] == tied_gguf.name

    def no_conversion(*args, **kwargs):
        raise AssertionError("a cached conversion ran again")

    monkeypatch.setattr("lab.models.student._convert", no_conversion)
    copy = tmp_path / "renamed.gguf"
    copy.write_bytes(tied_gguf.read_bytes())
    assert gguf_to_hf(copy, tmp_path / "models") == first  # same bytes, same folder


def test_interrupted_conversion_is_redone_not_trusted(tied_gguf, tmp_path):
    first = gguf_to_hf(tied_gguf, tmp_path / "models")
    (first / DONE_MARKER).unlink()
    (first / "model.safetensors").write_bytes(b"half")
    again = gguf_to_hf(tied_gguf, tmp_path / "models")
    assert again == first and (again / DONE_MARKER).is_file()
    assert (again / "model.safetensors").stat().st_size > 1000


def test_resolve_student_passes_model_folders_through_and_converts_ggufs(tiny_llama_dir, tied_gguf, tmp_path):
    assert resolve_student(str(tiny_llama_dir)) == str(tiny_llama_dir)
    converted = Path(resolve_student(str(tied_gguf), cache_dir=tmp_path / "models"))
    assert (converted / DONE_MARKER).is_file() and converted.is_relative_to(tmp_path / "models")
    folder = tmp_path / "only-gguf"
    folder.mkdir()
    (folder / tied_gguf.name).write_bytes(tied_gguf.read_bytes())
    assert Path(resolve_student(str(folder), cache_dir=tmp_path / "models")) == converted


def test_resolve_student_refuses_what_is_not_a_model(tmp_path):
    text = tmp_path / "notes.txt"
    text.write_text("hello")
    with pytest.raises(StudentError, match="not a .gguf"):
        resolve_student(str(text))
    with pytest.raises(StudentError, match="smollm2-135m-instruct"):
        resolve_student("no such thing at all")
    broken = tmp_path / "broken.gguf"
    broken.write_bytes(b"GGUF" + b"\0" * 64)
    with pytest.raises((StudentError, ValueError)):
        resolve_student(str(broken), cache_dir=tmp_path / "models")
    assert not list((tmp_path / "models" / "students").glob("*/" + DONE_MARKER))


def test_packaged_reference_offline_without_cache_is_a_clear_student_error(tmp_path, monkeypatch):
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    assert not cached_path(SMOLLM2_135M_INSTRUCT, tmp_path).exists()
    with pytest.raises(StudentError, match="offline mode is on"):
        resolve_student("smollm2-135m-instruct", cache_dir=tmp_path)


def test_hub_repo_of_a_gguf_is_downloaded_then_converted_and_found_offline(tied_gguf, tmp_path):
    from huggingface_hub import CommitOperationAdd, HfApi

    with HubStandIn(token=TOKEN) as hub:
        api = HfApi(endpoint=hub.url, token=TOKEN)
        api.create_repo("acme/tiny-student-gguf")
        api.create_commit("acme/tiny-student-gguf", [CommitOperationAdd(tied_gguf.name, tied_gguf.read_bytes())],
                          commit_message="student")
        folder = Path(resolve_student("acme/tiny-student-gguf", cache_dir=tmp_path / "models", api=api))
    assert (folder / DONE_MARKER).is_file()
    again = resolve_student(f"acme/tiny-student-gguf:{tied_gguf.name}", cache_dir=tmp_path / "models", offline=True)
    assert Path(again) == folder


def test_lab_train_and_evaluate_accept_a_gguf_student(tied_gguf, tmp_path, capsys):
    from lab.cli import main
    from tests.lab.evaluate.conftest import write_taxonomy
    from tests.lab.train.conftest import write_data

    data = write_data(tmp_path / "data")
    out = tmp_path / "run"
    assert main(["train", "--data", str(data), "--base", str(tied_gguf), "--out", str(out), "--no-progress",
                 "--set", "max_steps=1", "--set", "mode=\"stacked\""]) == 0
    summary = json.loads((out / "train_summary.json").read_text())
    assert (Path(summary["base"]) / DONE_MARKER).is_file()  # trained from the converted folder
    assert (out / "final" / "config.json").is_file()
    taxonomy = write_taxonomy(tmp_path / "taxonomy")
    assert main(["evaluate", str(tied_gguf), "--taxonomy", str(taxonomy), "--out", str(tmp_path / "r.json"),
                 "--max-new-tokens", "4"]) == 0
    assert "ROUGE-L" in capsys.readouterr().out


def test_lab_chat_runs_a_gguf_as_a_transformers_model_and_names_a_missing_package(tied_gguf, tmp_path, capsys,
                                                                                  monkeypatch):
    from lab.cli import main

    assert main(["chat", str(tied_gguf), "--format", "hf", "--prompt", "Sky?", "--max-tokens", "3"]) == 0
    assert "converting tiny-tied-f32.gguf" in capsys.readouterr().err  # dequantised once into the model cache
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    assert main(["chat", "smollm2-135m-instruct", "--prompt", "Sky?"]) == 1
    err = capsys.readouterr().err.strip()
    assert err.startswith("lab chat: smollm2-135m-instruct is not in the model cache") and len(err.splitlines()) == 1
