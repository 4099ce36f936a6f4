"""`lab chat MODEL --adapter PATH`: a LoRA adapter (as `/preview` keeps one) loaded over its base model."""

from __future__ import annotations

from pathlib import Path

import pytest

from lab.cli import main as lab_main

PROMPT = "Which planet do we live on?"


def make_adapter(base: Path, out: Path, hidden: int | None = None) -> Path:
    """A PEFT LoRA adapter over `base` whose B matrices are non-zero, so it changes what the model says."""
    import torch
    from peft import LoraConfig, get_peft_model
    from transformers import AutoModelForCausalLM, LlamaConfig

    if hidden is None:
        model = AutoModelForCausalLM.from_pretrained(base)
    else:  # a different shape than the base: an adapter that does not fit it
        model = AutoModelForCausalLM.from_config(LlamaConfig(hidden_size=hidden, intermediate_size=2 * hidden,
                                                             num_hidden_layers=1, num_attention_heads=2,
                                                             vocab_size=300))
    peft = get_peft_model(model, LoraConfig(r=4, lora_alpha=64, target_modules=["q_proj", "v_proj", "down_proj"]))
    torch.manual_seed(0)
    with torch.no_grad():
        for name, param in peft.named_parameters():
            if "lora_B" in name:
                param.normal_(0, 1.0)
    peft.save_pretrained(out)
    return out


def chat(capsys, *args: str) -> tuple[int, str, str]:
    """(exit code, answer, the error lines `lab chat` wrote: progress bars of the model loader left out)."""
    code = lab_main(["chat", *args, "--prompt", PROMPT, "--max-tokens", "12"])
    captured = capsys.readouterr()
    return code, captured.out, "\n".join(line for line in captured.err.splitlines() if line.startswith("lab chat"))


def test_an_adapter_changes_the_answers_and_the_base_alone_answers_as_before(tiny_llama_dir, tmp_path, capsys):
    adapter = make_adapter(tiny_llama_dir, tmp_path / "adapter")
    code, plain, _ = chat(capsys, str(tiny_llama_dir))
    assert code == 0 and plain.strip()
    code, adapted, _ = chat(capsys, str(tiny_llama_dir), "--adapter", str(adapter))
    assert code == 0 and adapted.strip() and adapted != plain
    code, again, _ = chat(capsys, str(tiny_llama_dir))
    assert again == plain  # the adapter lives beside the base model, never in it


@pytest.mark.parametrize("files", [{}, {"adapter_config.json": "{}"}, {"notes.txt": "hello"}])
def test_a_folder_that_is_not_an_adapter_is_refused_in_one_line(tiny_llama_dir, tmp_path, capsys, files):
    folder = tmp_path / "not-an-adapter"
    folder.mkdir()
    for name, text in files.items():
        (folder / name).write_text(text)
    code, _, err = chat(capsys, str(tiny_llama_dir), "--adapter", str(folder))
    assert code == 1 and err.startswith("lab chat: ") and len(err.splitlines()) == 1 and "adapter" in err


def test_an_adapter_for_another_model_shape_is_a_clear_load_error(tiny_llama_dir, tmp_path, capsys):
    adapter = make_adapter(tiny_llama_dir, tmp_path / "other", hidden=32)
    code, _, err = chat(capsys, str(tiny_llama_dir), "--adapter", str(adapter))
    assert code == 1 and err.startswith(f"lab chat: cannot load the adapter {adapter} over ")
    assert len(err.splitlines()) == 1 and "size mismatch" in err


def test_an_adapter_with_gguf_is_refused_with_what_to_use(tiny_llama_dir, tmp_path, capsys):
    adapter = make_adapter(tiny_llama_dir, tmp_path / "adapter")
    code, _, err = chat(capsys, str(tiny_llama_dir), "--format", "gguf", "--adapter", str(adapter))
    assert code == 1 and "use --format hf" in err
