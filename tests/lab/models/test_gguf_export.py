"""The GGUF exporter: llama.cpp must read the same model that transformers does, token for token."""

from __future__ import annotations

import ctypes

import pytest

from lab.models.gguf_export import GGUFExportError, export_gguf

PROMPT_TEXT = "What is the capital of France? ü ✓"
NEW_TOKENS = 24


def _hf_greedy(model_dir, prompt: str) -> tuple[list[int], list[int]]:
    import torch
    from transformers import AutoModelForCausalLM, AutoTokenizer

    tokenizer = AutoTokenizer.from_pretrained(model_dir)
    model = AutoModelForCausalLM.from_pretrained(model_dir)
    ids = tokenizer(prompt, add_special_tokens=False).input_ids
    with torch.no_grad():
        out = model.generate(torch.tensor([ids]), max_new_tokens=NEW_TOKENS, do_sample=False)
    return ids, out[0][len(ids):].tolist()


def _cpp_greedy(llm, ids: list[int]) -> list[int]:
    generated: list[int] = []
    for token in llm.generate(ids, top_k=1, temp=0.0):
        if token == llm.token_eos() or len(generated) >= NEW_TOKENS:
            break
        generated.append(token)
    return generated


def _chat_prompt(model_dir) -> str:
    from transformers import AutoTokenizer

    tokenizer = AutoTokenizer.from_pretrained(model_dir)
    return tokenizer.apply_chat_template(
        [{"role": "user", "content": PROMPT_TEXT}], add_generation_prompt=True, tokenize=False
    )


@pytest.mark.parametrize("dtype", ["f32", "f16"])
def test_gguf_greedy_generation_equals_transformers(tiny_llama_dir, tmp_path, dtype):
    import llama_cpp

    gguf_path = export_gguf(tiny_llama_dir, tmp_path / f"tiny-{dtype}.gguf", dtype=dtype)
    prompt = _chat_prompt(tiny_llama_dir)
    hf_ids, hf_out = _hf_greedy(tiny_llama_dir, prompt)
    llm = llama_cpp.Llama(str(gguf_path), n_ctx=256, verbose=False, seed=0)
    cpp_ids = llm.tokenize(prompt.encode(), add_bos=False, special=True)
    assert cpp_ids == hf_ids  # same tokenizer: byte-level BPE, special tokens matched as one token
    assert len(hf_out) >= 4
    assert _cpp_greedy(llm, cpp_ids) == hf_out


def test_gguf_carries_chat_template_and_special_tokens(tiny_llama_dir, tmp_path):
    import llama_cpp

    from sandbox.tiny import CHAT_TEMPLATE

    llm = llama_cpp.Llama(str(export_gguf(tiny_llama_dir, tmp_path / "t.gguf")), n_ctx=128, verbose=False)
    assert llm.metadata["tokenizer.chat_template"] == CHAT_TEMPLATE
    assert llm.metadata["llama.attention.layer_norm_rms_epsilon"].startswith("0.00001")
    assert llm.token_bos() == 0
    assert llm.detokenize([llm.token_eos()], special=True) == b"<|end|>"
    # Control tokens are not printed as text.
    assert llm.detokenize([4, llm.token_eos()]) == b""


def test_q8_0_tensors_match_llama_cpp_own_quantizer(tiny_llama_dir, tmp_path):
    import gguf
    import llama_cpp

    ours = export_gguf(tiny_llama_dir, tmp_path / "ours-q8_0.gguf", dtype="q8_0")
    f32 = export_gguf(tiny_llama_dir, tmp_path / "f32.gguf", dtype="f32")
    theirs = tmp_path / "theirs-q8_0.gguf"
    params = llama_cpp.llama_model_quantize_default_params()
    params.ftype = llama_cpp.LLAMA_FTYPE_MOSTLY_Q8_0
    assert llama_cpp.llama_model_quantize(str(f32).encode(), str(theirs).encode(), ctypes.byref(params)) == 0
    ref = {t.name: t for t in gguf.GGUFReader(theirs).tensors}
    mine = gguf.GGUFReader(ours).tensors
    assert {t.name for t in mine} == set(ref)
    for tensor in mine:
        assert tensor.tensor_type == ref[tensor.name].tensor_type, tensor.name
        assert tensor.data.tobytes() == ref[tensor.name].data.tobytes(), tensor.name
    assert any(t.tensor_type == gguf.GGMLQuantizationType.Q8_0 for t in mine)


def test_export_refuses_non_llama_and_unknown_dtype(tiny_llama_dir, tmp_path):
    import json
    import shutil

    with pytest.raises(GGUFExportError, match="dtype"):
        export_gguf(tiny_llama_dir, tmp_path / "x.gguf", dtype="q4_k")
    other = tmp_path / "other"
    shutil.copytree(tiny_llama_dir, other)
    config = json.loads((other / "config.json").read_text())
    config["model_type"] = "gpt2"
    (other / "config.json").write_text(json.dumps(config))
    with pytest.raises(GGUFExportError, match="Llama"):
        export_gguf(other, tmp_path / "x.gguf")
    assert not (tmp_path / "x.gguf").exists()


def _copy_with_pre_tokenizer(src, dst, pre_tokenizer):
    import json
    import shutil

    shutil.copytree(src, dst)
    data = json.loads((dst / "tokenizer.json").read_text())
    data["pre_tokenizer"] = pre_tokenizer
    (dst / "tokenizer.json").write_text(json.dumps(data))
    return dst


def test_llama3_style_split_regex_tokenizes_like_transformers(tiny_llama_dir, tmp_path):
    import llama_cpp
    from transformers import AutoTokenizer

    from lab.models.gguf_export import KNOWN_SPLIT_REGEXES

    pattern = next(p for p, name in KNOWN_SPLIT_REGEXES.items() if name == "llama-bpe")
    model_dir = _copy_with_pre_tokenizer(tiny_llama_dir, tmp_path / "l3", {"type": "Sequence", "pretokenizers": [
        {"type": "Split", "pattern": {"Regex": pattern}, "behavior": "Isolated", "invert": False},
        {"type": "ByteLevel", "add_prefix_space": False, "trim_offsets": True, "use_regex": False}]})
    text = "<|user|>\nI'LL pay 1234567 dollars, isn't it?  ok\n\n\ttab ü✓<|end|>"
    expected = AutoTokenizer.from_pretrained(model_dir)(text, add_special_tokens=False).input_ids
    llm = llama_cpp.Llama(str(export_gguf(model_dir, tmp_path / "l3.gguf")), vocab_only=True, verbose=False)
    assert llm.metadata["tokenizer.ggml.pre"] == "llama-bpe"
    assert llm.tokenize(text.encode(), add_bos=False, special=True) == expected


def test_sentencepiece_style_or_unknown_pre_tokenizers_are_refused(tiny_llama_dir, tmp_path):
    spm = _copy_with_pre_tokenizer(tiny_llama_dir, tmp_path / "spm",
                                   {"type": "Metaspace", "replacement": "▁", "prepend_scheme": "first"})
    with pytest.raises(GGUFExportError, match="not byte-level BPE"):
        export_gguf(spm, tmp_path / "spm.gguf")
    odd = _copy_with_pre_tokenizer(tiny_llama_dir, tmp_path / "odd", {"type": "Sequence", "pretokenizers": [
        {"type": "Split", "pattern": {"Regex": r"\d+"}, "behavior": "Isolated", "invert": False},
        {"type": "ByteLevel", "add_prefix_space": False, "trim_offsets": True, "use_regex": False}]})
    with pytest.raises(GGUFExportError, match="regex"):
        export_gguf(odd, tmp_path / "odd.gguf")


def test_tied_embeddings_export_without_an_output_tensor_and_still_agree(tiny_llama_dir, tmp_path):
    import gguf
    import llama_cpp
    from transformers import AutoModelForCausalLM, AutoTokenizer

    model = AutoModelForCausalLM.from_pretrained(tiny_llama_dir, tie_word_embeddings=True)
    model.tie_weights()
    tied = tmp_path / "tied"
    model.save_pretrained(tied)
    AutoTokenizer.from_pretrained(tiny_llama_dir).save_pretrained(tied)
    path = export_gguf(tied, tmp_path / "tied.gguf")
    assert "output.weight" not in {t.name for t in gguf.GGUFReader(path).tensors}
    prompt = _chat_prompt(tied)
    ids, hf_out = _hf_greedy(tied, prompt)
    llm = llama_cpp.Llama(str(path), n_ctx=256, verbose=False, seed=0)
    assert _cpp_greedy(llm, ids) == hf_out
