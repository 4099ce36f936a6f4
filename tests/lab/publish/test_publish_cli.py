"""`lab publish` from the command line, and LoRA adapters merged into full weights for the release."""

from __future__ import annotations

import json

import pytest

from lab.cli import main as lab_main
from sandbox.standins.hub import HubStandIn

TOKEN = "hf_FAKEcliToken00000000000042"


def test_lab_publish_to_the_hub_prints_the_release_and_never_the_token(tiny_llama_dir, tmp_path, capsys,
                                                                       monkeypatch):
    monkeypatch.setenv("HF_TOKEN", TOKEN)
    evaluation = tmp_path / "report.json"
    evaluation.write_text(json.dumps({"metrics": {"accuracy": {"value": 0.5, "ci": [0.4, 0.6]}}}))
    with HubStandIn(token=TOKEN) as hub:
        argv = ["publish", str(tiny_llama_dir), "--repo-id", "acme/cli-model", "--endpoint", hub.url,
                "--taxonomy-repo", "acme/taxonomy", "--taxonomy-sha", "a1" * 20, "--evaluation", str(evaluation),
                "--gguf", "f16", "--json"]
        assert lab_main(argv) == 0
        result = json.loads(capsys.readouterr().out)
        assert result["tag"] in hub.state.repos["acme/cli-model"].tags and not result["skipped"]
        assert result["repos"] == {"model": "acme/cli-model", "gguf": "acme/cli-model-GGUF"}
        assert "cli-model-f16.gguf" in hub.files("acme/cli-model-GGUF", result["tag"])
        assert lab_main(argv[:-1]) == 0  # same taxonomy commit again: a no-op, said plainly
        out = capsys.readouterr()
        assert out.out.startswith(f"already released as {result['tag']}")
        monkeypatch.setenv("HF_TOKEN", "hf_wrong_token_but_long_enough")
        assert lab_main([*argv[:9], "b2" * 20, "--gguf", ""]) == 1
        failed = capsys.readouterr()
        assert "lab publish:" in failed.err and "hf_wrong_token_but_long_enough" not in failed.err
    assert TOKEN not in out.out + out.err + failed.out + failed.err


def test_lab_publish_into_a_directory_with_an_info_file(tiny_llama_dir, tmp_path, capsys):
    info = {"taxonomy_repo": "acme/taxonomy", "taxonomy_sha": "c3" * 20, "data_counts": {"knowledge": 5},
            "leaves": [{"path": "knowledge/x/qna.yaml", "status": "added", "pr_number": 9}]}
    (tmp_path / "info.json").write_text(json.dumps(info))
    assert lab_main(["publish", str(tiny_llama_dir), "--dir", str(tmp_path / "out"), "--info",
                     str(tmp_path / "info.json"), "--gguf", ""]) == 0
    tag = (tmp_path / "out" / "LATEST").read_text().strip()
    assert capsys.readouterr().out.startswith(f"released {tag}")
    card = (tmp_path / "out" / "releases" / tag / "README.md").read_text()
    assert "| knowledge | 5 |" in card and "#9" in card
    (tmp_path / "bad.json").write_text(json.dumps({**info, "unexpected": 1}))
    assert lab_main(["publish", str(tiny_llama_dir), "--dir", str(tmp_path / "out"), "--info",
                     str(tmp_path / "bad.json")]) == 2
    assert "unknown release info keys: unexpected" in capsys.readouterr().err


@pytest.mark.slow
def test_a_lora_adapter_is_merged_into_full_weights_and_optionally_shipped(tiny_llama_dir, tmp_path):
    import torch
    from peft import LoraConfig, get_peft_model
    from safetensors.torch import load_file
    from transformers import AutoModelForCausalLM

    from lab.publish import DirectoryTarget, ReleaseInfo, publish_release

    model = AutoModelForCausalLM.from_pretrained(tiny_llama_dir)
    peft_model = get_peft_model(model, LoraConfig(r=4, lora_alpha=8, target_modules=["q_proj", "v_proj"]))
    with torch.no_grad():
        for name, param in peft_model.named_parameters():
            if "lora_B" in name:
                param.fill_(0.05)  # a trained adapter is not zero; make the merge visible
    adapter_dir = tmp_path / "adapter"
    peft_model.save_pretrained(adapter_dir)
    expected = peft_model.merge_and_unload().state_dict()["model.layers.0.self_attn.q_proj.weight"]

    info = ReleaseInfo(taxonomy_repo="acme/taxonomy", taxonomy_sha="d4" * 20, include_adapter=True,
                       gguf_types=("f16",))
    result = publish_release(adapter_dir, DirectoryTarget(tmp_path / "out"), info)
    folder = tmp_path / "out" / "releases" / result.tag
    merged = load_file(folder / "model.safetensors")["model.layers.0.self_attn.q_proj.weight"]
    base = load_file(tiny_llama_dir / "model.safetensors")["model.layers.0.self_attn.q_proj.weight"]
    assert torch.allclose(merged, expected, atol=1e-6) and not torch.allclose(merged, base)
    assert (folder / "adapter" / "adapter_model.safetensors").is_file()
    assert (folder / "tokenizer.json").is_file() and (folder / "taxonomy-model-f16.gguf").is_file()


def _report(tmp_path, decision: str) -> str:
    report = {"metrics": {"rouge_l": {"value": 0.4}},
              "gate": {"decision": decision, "passed": decision == "pass",
                       "reason": "leaves regressed: knowledge/x/qna.yaml (overall: mean -0.010, not a regression)"}}
    path = tmp_path / f"report-{decision}.json"
    path.write_text(json.dumps(report))
    return str(path)


def test_a_dir_release_is_named_after_the_model_never_the_local_folder(tiny_llama_dir, tmp_path, capsys):
    from lab.publish.card import parse_front_matter

    root = tmp_path / "private-home" / "releases"
    base = ["publish", str(tiny_llama_dir), "--dir", str(root), "--taxonomy-repo", "acme/taxonomy",
            "--evaluation", _report(tmp_path, "pass"), "--gguf", "f16"]
    assert lab_main([*base, "--taxonomy-sha", "e5" * 20]) == 0
    folder = root / "releases" / (root / "LATEST").read_text().strip()
    assert (folder / "taxonomy-model-f16.gguf").is_file() and not list(folder.glob("releases-*.gguf"))
    card = (folder / "README.md").read_text()
    assert parse_front_matter(card)["model-index"][0]["name"] == "taxonomy-model"
    assert str(tmp_path) not in card and "private-home" not in card
    assert lab_main([*base, "--taxonomy-sha", "f6" * 20, "--model-name", "acme/answerer"]) == 0
    folder = root / "releases" / (root / "LATEST").read_text().strip()
    assert (folder / "answerer-f16.gguf").is_file()
    assert parse_front_matter((folder / "README.md").read_text())["model-index"][0]["name"] == "acme/answerer"


def test_release_json_lists_each_file_size_and_sha256_and_pull_refuses_a_damaged_copy(tiny_llama_dir, tmp_path):
    import hashlib

    from lab.consume.hub import PullError, pull

    root = tmp_path / "airgap"
    assert lab_main(["publish", str(tiny_llama_dir), "--dir", str(root), "--taxonomy-repo", "acme/taxonomy",
                     "--taxonomy-sha", "a7" * 20, "--gguf", ""]) == 0
    folder = pull(str(root))
    listed = json.loads((folder / "release.json").read_text())["checksums"]
    weights = (folder / "model.safetensors").read_bytes()
    assert listed["model.safetensors"] == {"size": len(weights), "sha256": hashlib.sha256(weights).hexdigest()}
    assert {"config.json", "tokenizer.json"} <= set(listed)
    (folder / "model.safetensors").write_bytes(weights[:-1] + bytes([weights[-1] ^ 1]))  # a bad copy
    with pytest.raises(PullError, match=r"is corrupt: model.safetensors: sha256 .* but release.json lists"):
        pull(str(root))
    assert (folder / "model.safetensors").is_file()  # a release folder is reported, never deleted


def test_publish_refuses_an_evaluation_whose_gate_blocked_unless_forced(tiny_llama_dir, tmp_path, capsys):
    base = ["publish", str(tiny_llama_dir), "--dir", str(tmp_path / "out"), "--taxonomy-repo", "acme/taxonomy",
            "--taxonomy-sha", "b8" * 20, "--gguf", "", "--evaluation", _report(tmp_path, "block")]
    assert lab_main(base) == 1
    err = capsys.readouterr().err
    assert "gate blocked" in err and "leaves regressed: knowledge/x/qna.yaml" in err and "--force" in err
    assert not (tmp_path / "out" / "LATEST").exists()  # nothing was published
    assert lab_main([*base, "--force"]) == 0
    captured = capsys.readouterr()
    assert "(--force)" in captured.err and captured.out.startswith("released ")
