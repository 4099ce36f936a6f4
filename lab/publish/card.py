"""The model card (README.md): Hub YAML metadata plus prose on what went into the release.

Pure: plain data in, a string out. Text that came from pull requests (leaf paths, attribution)
is escaped or fenced, and bounded, so a contributor cannot break the card's layout or metadata.
"""

from __future__ import annotations

import json
import re
from collections import Counter
from typing import TYPE_CHECKING, Any

import yaml

from lab.publish.evaluation import Metric, extract_metrics, format_value
from lab.publish.release import ReleaseInfo

if TYPE_CHECKING:
    from lab.publish.quants import GGUFSet

REQUIRED_METADATA = ("license", "base_model", "tags", "library_name", "pipeline_tag")
BASE_TAGS = ("arborist", "instructlab", "taxonomy", "text-generation", "gguf")
MAX_ATTRIBUTION_CHARS = 4000  # per leaf
MAX_CELL_CHARS = 200
MAX_LEAVES_LISTED = 500
FRONT_MATTER = re.compile(r"\A---\n(.*?)\n---\n", re.S)


def _cell(value: Any) -> str:
    text = value if isinstance(value, str) else json.dumps(value, sort_keys=True, default=str)
    text = " ".join(text.split()).replace("|", "\\|").replace("<", "&lt;")
    return text if len(text) <= MAX_CELL_CHARS else text[: MAX_CELL_CHARS - 1] + "…"


def _fence(text: str) -> str:
    longest = max((len(m) for m in re.findall(r"`+", text)), default=0)
    ticks = "`" * max(3, longest + 1)
    return f"{ticks}text\n{text}\n{ticks}"


def metadata(info: ReleaseInfo, model_name: str, metrics: list[Metric]) -> dict[str, Any]:
    """The Hub's card metadata: licence, lineage, tags, and model-index evaluation results."""
    meta: dict[str, Any] = {
        "license": info.license,
        "base_model": info.base_model or None,
        "base_model_relation": "finetune" if info.base_model else None,
        "tags": list(BASE_TAGS),
        "library_name": "transformers",
        "pipeline_tag": "text-generation",
    }
    if info.datasets:
        meta["datasets"] = list(info.datasets)
    if metrics:
        meta["model-index"] = [{
            "name": model_name,
            "results": [{
                "task": {"type": "text-generation", "name": "Text Generation"},
                "dataset": {"type": info.taxonomy_repo, "name": "Taxonomy seed questions",
                            "revision": info.taxonomy_sha},
                "metrics": [{"type": m.name, "name": m.name, "value": m.value} for m in metrics],
            }],
        }]
    return meta


def parse_front_matter(card: str) -> dict[str, Any]:
    """The YAML metadata block of a card (empty when there is none)."""
    match = FRONT_MATTER.match(card)
    if not match:
        return {}
    data = yaml.safe_load(match.group(1))
    return data if isinstance(data, dict) else {}


def _params_table(params: dict[str, Any]) -> list[str]:
    if not params:
        return ["_Not recorded._", ""]
    rows = ["| parameter | value |", "| --- | --- |"]
    rows += [f"| {_cell(str(k))} | {_cell(v)} |" for k, v in sorted(params.items())]
    return [*rows, ""]


def _evaluation_section(metrics: list[Metric], previous: list[Metric], prev_tag: str | None) -> list[str]:
    if not metrics:
        return ["_No evaluation was recorded for this release._", ""]
    prev = {m.name: m for m in previous}
    label = f"previous release ({prev_tag})" if prev_tag else "previous release"
    rows = [f"| metric | this release | 95% CI | {_cell(label)} | change | baseline |",
            "| --- | --- | --- | --- | --- | --- |"]
    for m in metrics:
        ci = f"[{format_value(m.ci[0])}, {format_value(m.ci[1])}]" if m.ci else "–"
        before = prev.get(m.name)
        delta = f"{m.value - before.value:+.3f}" if before else "–"
        rows.append(f"| {_cell(m.name)} | {format_value(m.value)} | {ci} | "
                    f"{format_value(before.value) if before else '–'} | {delta} | {format_value(m.baseline)} |")
    return [*rows, ""]


def _changes(info: ReleaseInfo, previous: dict[str, Any] | None) -> list[str]:
    """One paragraph: what changed since the previous release (leaves, data, headline score)."""
    base_url, sha, prev_sha = info.taxonomy_url(), info.taxonomy_sha, info.previous_taxonomy_sha
    if not prev_sha:
        return ["This is the first release of this model.", ""]
    counts = Counter(leaf.status for leaf in info.leaves)
    leaves = ", ".join(f"{n} leaf{'s' if n != 1 else ''} {status}" for status, n in sorted(counts.items()))
    text = (f"**What changed** since {_cell((previous or {}).get('tag') or 'the previous release')} "
            f"([`{prev_sha[:12]}...{sha[:12]}`]({base_url}/compare/{prev_sha}...{sha})): "
            f"{leaves or 'no leaf changed'}")
    samples, before = sum(info.data_counts.values()), sum(((previous or {}).get("data_counts") or {}).values())
    if samples:
        text += f"; trained on {samples:,} samples" + (f" ({before:,} before)" if before else "")
    now, then = extract_metrics(info.evaluation), extract_metrics((previous or {}).get("evaluation"))
    if now and then and now[0].name == then[0].name:
        text += f"; {_cell(now[0].name)} {format_value(then[0].value)} → {format_value(now[0].value)}"
    return [text + ".", ""]


def _use_it(repo_id: str, tag: str, gguf_repo: str, ggufs: GGUFSet | None) -> list[str]:
    """How to run it: lab, transformers, and (from the GGUF twin) llama.cpp and Ollama."""
    lines = ["## Use it", "", "```sh", f"lab pull {repo_id} --release {tag}            # safetensors",
             f"lab pull {repo_id} --release {tag} --format gguf --quant Q4_K_M --verify  # for llama.cpp",
             f"lab chat {repo_id}", "```", "",
             "```python", "from transformers import AutoModelForCausalLM, AutoTokenizer",
             f'model = AutoModelForCausalLM.from_pretrained("{repo_id}", revision="{tag}")',
             f'tokenizer = AutoTokenizer.from_pretrained("{repo_id}", revision="{tag}")', "```", ""]
    if gguf_repo:
        quant = next((f.quant for f in (ggufs.files if ggufs else []) if f.quant == "Q4_K_M"), "f16")
        lines += [f"GGUF files for llama.cpp, Ollama and LM Studio (f16 and the usual quants) are in "
                  f"[{_cell(gguf_repo)}](../{gguf_repo}), tagged {tag} too:", "", "```sh",
                  f"llama-cli -hf {gguf_repo}:{quant}", f"ollama run hf.co/{gguf_repo}:{quant}", "```", ""]
    if ggufs is not None and ggufs.files:
        from lab.publish.gguf_card import files_table

        lines += ["### GGUF files", "", *files_table(ggufs)]
    return lines


def _limits(info: ReleaseInfo, metrics: list[Metric], ggufs: GGUFSet | None) -> list[str]:
    """What this release is known not to do well, from what was measured."""
    n = next((m.n for m in metrics if m.n), None)
    rows = [f"- Evaluated only on {f'{n} ' if n else ''}questions from the taxonomy's own seed examples, "
            "asked closed-book; a score says how well it learned those, not how it does elsewhere."]
    evaluation = info.evaluation if isinstance(info.evaluation, dict) else {}
    worse = [e.get("leaf") for e in evaluation.get("leaves") or [] if isinstance(e, dict) and e.get("verdict") == "worse"]
    if worse:
        rows.append(f"- Worse than the baseline on {len(worse)} leaf(s): "
                    + ", ".join(f"`{_cell(str(leaf)).replace('`', '')}`" for leaf in worse[:10]) + ".")
    fallback = [f.quant for f in (ggufs.files if ggufs else []) if "fallback" in f.types]
    if fallback:
        rows.append(f"- {', '.join(fallback)}: the model's rows are not a multiple of 256 values, so llama.cpp used "
                    "fallback types for some matrices (see the tensor types column).")
    if info.base_model:
        rows.append(f"- It keeps the limits of its base model `{_cell(info.base_model)}`; training on a few "
                    "taxonomy leaves does not add safety tuning.")
    return [*rows, ""]


def render_card(info: ReleaseInfo, tag: str, repo_id: str, files: list[str],
                previous: dict[str, Any] | None = None, ggufs: GGUFSet | None = None, gguf_repo: str = "") -> str:
    """README.md for the release `tag`; `previous` is the earlier release's record, when there is one.

    `ggufs` are the release's GGUF files with their measured answers; `gguf_repo` the `-GGUF` twin holding them."""
    name = info.model_name or repo_id
    metrics = extract_metrics(info.evaluation)
    prev_metrics = extract_metrics((previous or {}).get("evaluation"))
    meta = {k: v for k, v in metadata(info, name, metrics).items() if v is not None}
    base_url = info.taxonomy_url()
    sha = info.taxonomy_sha
    lines = ["---", yaml.safe_dump(meta, sort_keys=False, allow_unicode=True).rstrip(), "---", "",
             f"# {_cell(name)}", "",
             f"Release **{tag}**, trained by Arborist from the taxonomy "
             f"[{_cell(info.taxonomy_repo)}]({base_url}) at commit [`{sha[:12]}`]({base_url}/commit/{sha}), "
             f"on {info.when():%Y-%m-%d}."]
    if info.base_model:
        lines[-1] += f" Base model: `{_cell(info.base_model)}`."
    lines.append("")
    lines += [*_changes(info, previous), *_use_it(repo_id, tag, gguf_repo, ggufs)]
    lines += ["## Leaves added or changed", ""]
    if info.leaves:
        lines += ["| leaf | change | pull request |", "| --- | --- | --- |"]
        for leaf in info.leaves[:MAX_LEAVES_LISTED]:
            pr = f"[#{leaf.pr_number}]({leaf.pr_url})" if leaf.pr_number and leaf.pr_url else (
                f"#{leaf.pr_number}" if leaf.pr_number else "–")
            lines.append(f"| `{_cell(leaf.path).replace('`', '')}` | {_cell(leaf.status)} | {pr} |")
        if len(info.leaves) > MAX_LEAVES_LISTED:
            lines.append(f"| … and {len(info.leaves) - MAX_LEAVES_LISTED} more | | |")
    else:
        lines.append("_No leaf changed since the previous release._")
    lines.append("")

    lines += ["## Training data", ""]
    if info.data_counts:
        lines += ["| phase | samples |", "| --- | ---: |"]
        lines += [f"| {_cell(phase)} | {count:,} |" for phase, count in info.data_counts.items()]
    else:
        lines.append("_Not recorded._")
    lines += ["", "### Generation parameters", "", *_params_table(info.generation_params),
              "### Training parameters", "", *_params_table(info.training_params)]

    lines += ["## Evaluation", "", *_evaluation_section(metrics, prev_metrics, (previous or {}).get("tag")),
              "## Known limits", "", *_limits(info, metrics, ggufs)]

    lines += ["## Attribution", ""]
    if info.attributions:
        lines.append("The knowledge in this release comes from these sources, as their contributors recorded them:")
        lines.append("")
        for source, text in sorted(info.attributions.items()):
            body = text.strip()
            if len(body) > MAX_ATTRIBUTION_CHARS:
                body = body[:MAX_ATTRIBUTION_CHARS] + "\n[…truncated]"
            lines += [f"### `{_cell(source).replace('`', '')}`", "", _fence(body), ""]
    else:
        lines += ["_No attribution files were included._", ""]
    return "\n".join(lines)
