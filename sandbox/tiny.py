"""Tiny models built locally, for tests and the demo: nothing is ever downloaded.

A byte-level BPE tokenizer is trained on the fly on the given texts (every byte is in its
alphabet, so no character is unknown), and a random Llama of a few hundred thousand parameters
is saved next to it as a normal Hugging Face model directory, chat template included.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

# Special tokens of the tiny chat format. Order fixes their ids (0..6).
BOS, EOS, PAD = "<s>", "</s>", "<pad>"
ROLE_TOKENS = ("<|system|>", "<|user|>", "<|assistant|>", "<|end|>")
SPECIAL_TOKENS = [BOS, EOS, PAD, *ROLE_TOKENS]

# A ChatML-like template: each message is `<|role|>\n{content}<|end|>\n`; generation starts
# after `<|assistant|>\n` and stops at `<|end|>`.
CHAT_TEMPLATE = (
    "{{ bos_token }}"
    "{% for message in messages %}"
    "{{ '<|' + message['role'] + '|>\n' + message['content'] + '<|end|>\n' }}"
    "{% endfor %}"
    "{% if add_generation_prompt %}{{ '<|assistant|>\n' }}{% endif %}"
)

DEFAULT_CORPUS = (
    "The quick brown fox jumps over the lazy dog. What is the capital of France? Paris is the capital.",
    "Question: how many legs does a spider have? Answer: a spider has eight legs.",
    "Knowledge, skills, taxonomy, seed examples, questions and answers, context, document.",
    '{"question": "Why is the sky blue?", "answer": "Rayleigh scattering of sunlight."}',
)


@dataclass(frozen=True)
class TinyConfig:
    """Shape of the tiny model. Defaults build in well under a second on a CPU."""

    vocab_size: int = 512  # tokenizer target size (tokens)
    hidden_size: int = 64
    intermediate_size: int = 128
    num_layers: int = 2
    num_heads: int = 4
    num_kv_heads: int = 2
    max_positions: int = 1024  # context length (tokens)
    seed: int = 0


def train_tokenizer(texts: Iterable[str], vocab_size: int = 512):
    """Train a byte-level BPE tokenizer and wrap it as a transformers fast tokenizer."""
    from tokenizers import Tokenizer, decoders, models, pre_tokenizers, trainers
    from transformers import PreTrainedTokenizerFast

    tok = Tokenizer(models.BPE())
    tok.pre_tokenizer = pre_tokenizers.ByteLevel(add_prefix_space=False)
    tok.decoder = decoders.ByteLevel()
    trainer = trainers.BpeTrainer(
        vocab_size=vocab_size,
        special_tokens=SPECIAL_TOKENS,
        initial_alphabet=pre_tokenizers.ByteLevel.alphabet(),
        show_progress=False,
    )
    tok.train_from_iterator(list(texts) or list(DEFAULT_CORPUS), trainer=trainer)
    fast = PreTrainedTokenizerFast(
        tokenizer_object=tok,
        bos_token=BOS,
        eos_token="<|end|>",  # generation stops at the end of the assistant's turn
        pad_token=PAD,
        additional_special_tokens=list(ROLE_TOKENS),
    )
    fast.chat_template = CHAT_TEMPLATE
    return fast


def build_tiny_llama(out_dir: str | Path, texts: Iterable[str] = DEFAULT_CORPUS, config: TinyConfig = TinyConfig()) -> Path:
    """Write a random tiny Llama with its tokenizer to `out_dir` and return the path."""
    import torch
    from transformers import GenerationConfig, LlamaConfig, LlamaForCausalLM

    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    tokenizer = train_tokenizer(texts, config.vocab_size)
    torch.manual_seed(config.seed)
    model_config = LlamaConfig(
        vocab_size=len(tokenizer),
        hidden_size=config.hidden_size,
        intermediate_size=config.intermediate_size,
        num_hidden_layers=config.num_layers,
        num_attention_heads=config.num_heads,
        num_key_value_heads=config.num_kv_heads,
        max_position_embeddings=config.max_positions,
        rms_norm_eps=1e-5,
        tie_word_embeddings=False,
        bos_token_id=tokenizer.bos_token_id,
        eos_token_id=tokenizer.eos_token_id,
        pad_token_id=tokenizer.pad_token_id,
    )
    model = LlamaForCausalLM(model_config)
    model.generation_config = GenerationConfig(
        bos_token_id=tokenizer.bos_token_id,
        eos_token_id=tokenizer.eos_token_id,
        pad_token_id=tokenizer.pad_token_id,
        do_sample=False,
    )
    model.save_pretrained(out)
    tokenizer.save_pretrained(out)
    return out
