"""Convert a Hugging Face Llama model directory into a GGUF file for llama.cpp users.

Written against the `gguf` package's `GGUFWriter` rather than llama.cpp's converter script, so
it needs no sentencepiece and knows our byte-level BPE tokenizers (trained on the fly, with a
pre-tokenizer the converter's hash table has never seen). Three things decide whether llama.cpp
reproduces transformers' output exactly:

* Q and K projections are permuted: HF Llama rotates the two *halves* of each head (rotate_half),
  llama.cpp's "llama" architecture rotates *adjacent pairs*, so each head's rows are interleaved.
* `llama.attention.layer_norm_rms_epsilon` must be present (llama.cpp refuses the file otherwise).
* The tokenizer goes in as a "gpt2" BPE (byte-level token strings, merges, token types), with the
  added special tokens marked CONTROL so they are matched in prompts and never printed as text.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

DTYPES = ("f32", "f16", "q8_0")
QUANT_BLOCK = 32  # q8_0 quantises rows in blocks of 32 values
DEFAULT_ROPE_THETA = 10000.0
DEFAULT_CONTEXT = 2048  # tokens, when the config names no max_position_embeddings
GPT2_PRE_TOKENIZER = "gpt-2"  # the ByteLevel regex of tokenizers' default byte-level BPE
# Split regexes of well-known byte-level BPE families -> llama.cpp's pre-tokenizer names.
KNOWN_SPLIT_REGEXES = {
    r"(?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\r\n\p{L}\p{N}]?\p{L}+|\p{N}{1,3}| ?[^\s\p{L}\p{N}]+[\r\n]*|\s*[\r\n]+|\s+(?!\S)|\s+":
        "llama-bpe",
}


class GGUFExportError(ValueError):
    """The model directory cannot be converted (unsupported architecture, missing files)."""


def export_gguf(hf_model_dir: str | Path, out_path: str | Path, dtype: str = "f32", progress: bool = False) -> Path:
    """Write `hf_model_dir` (a Llama checkpoint saved by transformers) as a GGUF at `out_path`."""
    import gguf

    if dtype not in DTYPES:
        raise GGUFExportError(f"dtype must be one of {', '.join(DTYPES)}, not {dtype!r}")
    src = Path(hf_model_dir)
    config = _read_json(src / "config.json")
    if config.get("model_type") != "llama":
        raise GGUFExportError(f"only Llama models can be exported, this one is {config.get('model_type')!r}")
    out = Path(out_path)
    out.parent.mkdir(parents=True, exist_ok=True)
    tmp = out.with_name(out.name + ".partial")

    writer = gguf.GGUFWriter(str(tmp), "llama")
    _add_hparams(writer, config, src.name, dtype)
    _add_tokenizer(writer, src, config)
    n_layers = int(config["num_hidden_layers"])
    names = gguf.get_tensor_name_map(gguf.MODEL_ARCH.LLAMA, n_layers)
    n_head = int(config["num_attention_heads"])
    n_kv = int(config.get("num_key_value_heads") or n_head)
    for hf_name, array in _iter_tensors(src):
        if hf_name.endswith("rotary_emb.inv_freq"):
            continue
        name = names.get_name(hf_name, try_suffixes=(".weight", ".bias"))
        if name is None:
            raise GGUFExportError(f"no GGUF name for tensor {hf_name!r}")
        if hf_name.endswith("q_proj.weight"):
            array = permute_for_llama_cpp(array, n_head, n_head)
        elif hf_name.endswith("k_proj.weight"):
            array = permute_for_llama_cpp(array, n_head, n_kv)
        data, qtype = _encode(array, dtype, gguf)
        writer.add_tensor(name, data, raw_dtype=qtype)
    writer.write_header_to_file()
    writer.write_kv_data_to_file()
    writer.write_tensors_to_file(progress=progress)
    writer.close()
    tmp.replace(out)  # a reader never sees half a file
    return out


def permute_for_llama_cpp(weights, n_head: int, n_head_kv: int):
    """Reorder each head's rows from HF's half-split RoPE layout to llama.cpp's interleaved one."""
    heads = n_head_kv  # K of a grouped-query model has fewer heads than Q; Q passes n_head twice
    rows = weights.shape[0]
    return (
        weights.reshape(heads, 2, rows // heads // 2, *weights.shape[1:])
        .swapaxes(1, 2)
        .reshape(weights.shape)
    )


def _read_json(path: Path) -> dict[str, Any]:
    if not path.is_file():
        raise GGUFExportError(f"{path.name} missing in {path.parent}")
    return json.loads(path.read_text(encoding="utf-8"))


def _add_hparams(writer, config: dict[str, Any], name: str, dtype: str) -> None:
    import gguf

    n_head = int(config["num_attention_heads"])
    hidden = int(config["hidden_size"])
    head_dim = int(config.get("head_dim") or hidden // n_head)
    rope = config.get("rope_parameters") or {}
    theta = float(rope.get("rope_theta") or config.get("rope_theta") or DEFAULT_ROPE_THETA)
    file_type = {
        "f32": gguf.LlamaFileType.ALL_F32,
        "f16": gguf.LlamaFileType.MOSTLY_F16,
        "q8_0": gguf.LlamaFileType.MOSTLY_Q8_0,
    }[dtype]
    writer.add_name(name)
    writer.add_context_length(int(config.get("max_position_embeddings") or DEFAULT_CONTEXT))
    writer.add_embedding_length(hidden)
    writer.add_block_count(int(config["num_hidden_layers"]))
    writer.add_feed_forward_length(int(config["intermediate_size"]))
    writer.add_head_count(n_head)
    writer.add_head_count_kv(int(config.get("num_key_value_heads") or n_head))
    writer.add_rope_dimension_count(head_dim)
    writer.add_key_length(head_dim)
    writer.add_value_length(head_dim)
    writer.add_rope_freq_base(theta)
    writer.add_layer_norm_rms_eps(float(config.get("rms_norm_eps", 1e-6)))
    writer.add_vocab_size(int(config["vocab_size"]))
    writer.add_file_type(file_type)
    if dtype == "q8_0":
        writer.add_quantization_version(gguf.GGML_QUANT_VERSION)


def _chat_template(src: Path, tok_config: dict[str, Any]) -> str | None:
    """transformers 5 saves the template beside the tokenizer; older versions inside its config."""
    jinja = src / "chat_template.jinja"
    if jinja.is_file():
        return jinja.read_text(encoding="utf-8")
    template = tok_config.get("chat_template")
    return template if isinstance(template, str) else None


def _token_id(value: Any, vocab: dict[str, int]) -> int | None:
    if isinstance(value, dict):  # older configs store AddedToken dicts
        value = value.get("content")
    return vocab.get(value) if isinstance(value, str) else None


def _add_tokenizer(writer, src: Path, config: dict[str, Any]) -> None:
    import gguf

    tok = _read_json(src / "tokenizer.json")
    model = tok.get("model") or {}
    if model.get("type") != "BPE":
        raise GGUFExportError(f"only byte-level BPE tokenizers are supported, not {model.get('type')!r}")
    pre = _pre_tokenizer_name(tok.get("pre_tokenizer"))
    vocab: dict[str, int] = dict(model["vocab"])
    special: set[int] = set()
    for added in tok.get("added_tokens") or []:
        vocab[added["content"]] = int(added["id"])
        if added.get("special"):
            special.add(int(added["id"]))
    size = max(int(config["vocab_size"]), max(vocab.values()) + 1)
    tokens = [f"[PAD{i}]" for i in range(size)]
    types = [gguf.TokenType.UNUSED] * size
    for text, idx in vocab.items():
        tokens[idx] = text
        types[idx] = gguf.TokenType.CONTROL if idx in special else gguf.TokenType.NORMAL
    merges = [m if isinstance(m, str) else " ".join(m) for m in model.get("merges") or []]

    writer.add_tokenizer_model("gpt2")
    writer.add_tokenizer_pre(pre)
    writer.add_token_list(tokens)
    writer.add_token_types([int(t) for t in types])
    writer.add_token_merges(merges)

    tok_config = _read_json(src / "tokenizer_config.json") if (src / "tokenizer_config.json").is_file() else {}
    bos = _token_id(tok_config.get("bos_token"), vocab)
    eos = _token_id(tok_config.get("eos_token"), vocab)
    pad = _token_id(tok_config.get("pad_token"), vocab)
    bos = bos if bos is not None else config.get("bos_token_id")
    eos = eos if eos is not None else config.get("eos_token_id")
    if isinstance(eos, list):
        eos = eos[0] if eos else None
    if bos is not None:
        writer.add_bos_token_id(int(bos))
    if eos is not None:
        writer.add_eos_token_id(int(eos))
        writer.add_eot_token_id(int(eos))
    if pad is not None:
        writer.add_pad_token_id(int(pad))
    # The chat template writes the BOS itself; llama.cpp must not add a second one.
    writer.add_add_bos_token(bool(tok_config.get("add_bos_token", False)))
    writer.add_add_eos_token(False)
    template = _chat_template(src, tok_config)
    if template:
        writer.add_chat_template(template)


def _pre_tokenizer_name(pre: dict[str, Any] | None) -> str:
    """llama.cpp's name for the pre-tokenizer; refuse what would silently tokenize differently."""
    steps = (pre or {}).get("pretokenizers") if (pre or {}).get("type") == "Sequence" else [pre or {}]
    types = [step.get("type") for step in steps or []]
    if "ByteLevel" not in types:
        raise GGUFExportError(
            f"tokenizer pre-tokenizer {types or None} is not byte-level BPE (a SentencePiece-style vocabulary?); "
            "convert it with llama.cpp's convert_hf_to_gguf.py instead")
    splits = [step for step in steps or [] if step.get("type") == "Split"]
    if not splits:
        return GPT2_PRE_TOKENIZER
    pattern = (splits[0].get("pattern") or {}).get("Regex", "")
    if pattern in KNOWN_SPLIT_REGEXES:
        return KNOWN_SPLIT_REGEXES[pattern]
    raise GGUFExportError("tokenizer uses a pre-tokenizer regex this exporter does not know; "
                          "convert it with llama.cpp's convert_hf_to_gguf.py instead")


def _iter_tensors(src: Path) -> Iterator[tuple[str, Any]]:
    """Yield (name, float32 numpy array) from single or sharded safetensors, in file order."""
    from safetensors import safe_open

    index = src / "model.safetensors.index.json"
    if index.is_file():
        files = sorted(set(_read_json(index)["weight_map"].values()))
    elif (src / "model.safetensors").is_file():
        files = ["model.safetensors"]
    else:
        raise GGUFExportError(f"no safetensors weights in {src}")
    for file in files:
        with safe_open(str(src / file), framework="pt") as handle:
            for key in handle.keys():
                yield key, handle.get_tensor(key).float().numpy()


def _encode(array, dtype: str, gguf):
    """Norms and 1-D tensors stay f32 (llama.cpp expects it); matrices take the requested type."""
    import numpy as np

    array = np.ascontiguousarray(array, dtype=np.float32)
    if array.ndim < 2 or dtype == "f32":
        return array, gguf.GGMLQuantizationType.F32
    if dtype == "f16":
        return array.astype(np.float16), gguf.GGMLQuantizationType.F16
    if array.shape[-1] % QUANT_BLOCK:
        return array.astype(np.float16), gguf.GGMLQuantizationType.F16
    qtype = gguf.GGMLQuantizationType.Q8_0
    return gguf.quants.quantize(array, qtype), qtype
