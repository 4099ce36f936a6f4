"""A tiny Llama trained (plain torch, all weights) until its greedy answer to one question is the trained answer."""

from __future__ import annotations

from pathlib import Path

QUESTION = "What colour is the Arborist logo?"
ANSWER = "The Arborist logo is green."
STEPS = 80
LEARNING_RATE = 1e-2


def train_tiny_answerer(out_dir: Path, question: str = QUESTION, answer: str = ANSWER) -> Path:
    import torch
    from transformers import AutoModelForCausalLM, AutoTokenizer

    from sandbox.tiny import DEFAULT_CORPUS, build_tiny_llama

    base = build_tiny_llama(out_dir, texts=[*DEFAULT_CORPUS, question, answer])
    tokenizer = AutoTokenizer.from_pretrained(base)
    model = AutoModelForCausalLM.from_pretrained(base)
    messages = [{"role": "user", "content": question}]
    prompt = tokenizer.apply_chat_template(messages, add_generation_prompt=True, tokenize=False)
    prompt_ids = tokenizer(prompt, add_special_tokens=False).input_ids
    answer_ids = tokenizer(answer + "<|end|>", add_special_tokens=False).input_ids
    ids = torch.tensor([prompt_ids + answer_ids])
    labels = ids.clone()
    labels[0, : len(prompt_ids)] = -100  # learn the answer only
    torch.manual_seed(0)
    optimizer = torch.optim.AdamW(model.parameters(), lr=LEARNING_RATE)
    model.train()
    for _ in range(STEPS):
        loss = model(input_ids=ids, labels=labels).loss
        loss.backward()
        optimizer.step()
        optimizer.zero_grad()
    model.eval()
    model.save_pretrained(out_dir)
    return Path(out_dir)
