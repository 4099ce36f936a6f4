"""The `<model>-GGUF` repository's card and record: which quants, how big, what each one answered.

Pure: plain data in, strings out. The card's metadata puts the repository in the Hub's model tree as a
quantisation of the release (`base_model` + `base_model_relation: quantized`).
"""

from __future__ import annotations

from typing import Any

import yaml

from lab.publish.markdown import cell as _cell
from lab.publish.quants import GGUFSet
from lab.publish.release import MAX_HISTORY, ReleaseInfo, record_history, record_start

GGUF_SUFFIX = "-GGUF"
GGUF_TAGS = ("arborist", "instructlab", "gguf", "llama.cpp", "text-generation")
MAX_ANSWER_CHARS = 160


def gguf_repo_id(model_repo: str) -> str:
    """`owner/name-GGUF`, as the community names the GGUF twin of a model repository."""
    return f"{model_repo}{GGUF_SUFFIX}"


def gguf_metadata(info: ReleaseInfo, model_repo: str) -> dict[str, Any]:
    return {
        "license": info.license,
        "base_model": model_repo,
        "base_model_relation": "quantized",
        "tags": list(GGUF_TAGS),
        "pipeline_tag": "text-generation",
    }


def _size(n: int) -> str:
    for unit in ("B", "KB", "MB", "GB"):
        if n < 1000 or unit == "GB":
            return f"{n:,.0f} {unit}" if unit == "B" else f"{n:,.1f} {unit}"
        n /= 1000  # type: ignore[assignment]
    return str(n)


def files_table(ggufs: GGUFSet) -> list[str]:
    """| file | type | size | tensor types | answer | rows, and a line per quant that was not made."""
    rows = [f"Each file was loaded by llama.cpp and asked: _{_cell(ggufs.prompt)}_ (greedy).", "",
            "| file | type | size | tensor types | its answer |", "| --- | --- | ---: | --- | --- |"]
    for f in ggufs.files:
        answer = f.answer if len(f.answer) <= MAX_ANSWER_CHARS else f.answer[:MAX_ANSWER_CHARS - 1] + "…"
        rows.append(f"| `{_cell(f.name)}` | {_cell(f.quant)} | {_size(f.size)} | {_cell(f.types)} | "
                    f"{_cell(answer) or '_(empty)_'} |")
    rows.append("")
    for quant, why in sorted(ggufs.skipped.items()):
        rows += [f"- {quant} was not made: {_cell(why)}"]
    return [*rows, ""] if ggufs.skipped else rows


def render_gguf_card(info: ReleaseInfo, tag: str, model_repo: str, repo_id: str, ggufs: GGUFSet,
                     endpoint: str = "https://huggingface.co") -> str:
    """README.md of the GGUF repository for release `tag` of `model_repo`."""
    name = info.model_name or model_repo
    default = next((f for f in ggufs.files if f.quant == "Q4_K_M"), ggufs.files[0] if ggufs.files else None)
    quant = default.quant if default else "Q4_K_M"
    lines = ["---", yaml.safe_dump(gguf_metadata(info, model_repo), sort_keys=False).rstrip(), "---", "",
             f"# {_cell(name)} GGUF", "",
             f"GGUF files of [{_cell(model_repo)}]({endpoint.rstrip('/')}/{model_repo}) release **{tag}** "
             f"(taxonomy commit `{info.taxonomy_sha[:12]}`), for llama.cpp, Ollama and LM Studio. "
             "f16 is exported from the released weights; the quants are made from an f32 export by the "
             "llama.cpp quantiser bundled with llama-cpp-python.", "",
             "## Files", "", *files_table(ggufs),
             "## Run it", "", "```sh",
             f"lab pull {model_repo} --release {tag} --format gguf --quant {quant} --verify",
             f"lab chat {model_repo} --format gguf --quant {quant}",
             f"llama-cli -hf {repo_id}:{quant}",
             f"ollama run hf.co/{repo_id}:{quant}", "```", ""]
    return "\n".join(lines)


def gguf_record(info: ReleaseInfo, tag: str, model_repo: str, ggufs: GGUFSet,
                previous: dict[str, Any] | None) -> dict[str, Any]:
    """release.json of the GGUF repository: the same tag and taxonomy commit, and each file's measurements."""
    history = record_history(previous, ("tag", "taxonomy_sha", "date"))
    return {
        **record_start(info, tag),
        "base_model": model_repo,
        "prompt": ggufs.prompt,
        "quants": [f.to_record() for f in ggufs.files],
        "skipped": dict(ggufs.skipped),
        "history": history[:MAX_HISTORY],
    }
