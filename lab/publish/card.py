"""The model card (README.md): Hub YAML metadata plus prose on what went into the release.

Pure: plain data in, a string out. Text that came from pull requests (leaf paths, attribution)
is escaped or fenced, and bounded, so a contributor cannot break the card's layout or metadata.
"""

from __future__ import annotations

import re
from typing import TYPE_CHECKING, Any

import yaml

from lab.generate.prompts import TRAINING_SYSTEM_PROMPT
from lab.publish.evaluation import Metric, extract_metrics, format_value
from lab.publish.markdown import cell as _cell
from lab.publish.markdown import fence as _fence
from lab.publish.release import LeafChange, ReleaseInfo

if TYPE_CHECKING:
    from lab.publish.quants import GGUFSet

REQUIRED_METADATA = ("license", "base_model", "tags", "library_name", "pipeline_tag")
BASE_TAGS = ("arborist", "instructlab", "taxonomy", "text-generation", "gguf")
MAX_ATTRIBUTION_CHARS = 4000  # per leaf
MAX_LEAVES_LISTED = 500
MAX_LEAVES_NAMED = 6  # in the "what changed" paragraph; the table lists them all
REGRESSED_VERDICTS = ("regressed", "worse")  # lab.evaluate.compare.REGRESSED (and older reports' word)
STATUS_WORDS = {"added": "added", "modified": "changed", "removed": "removed"}  # LeafChange.status -> prose
FRONT_MATTER = re.compile(r"\A---\n(.*?)\n---\n", re.S)


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


def _leaf_name(leaf: LeafChange) -> str:
    """`path` (#PR) for prose: backticks stripped from the contributor's path, PR linked when known."""
    name = f"`{_cell(leaf.path).replace('`', '')}`"
    if leaf.pr_number and leaf.pr_url:
        return f"{name} ([#{leaf.pr_number}]({leaf.pr_url}))"
    return f"{name} (#{leaf.pr_number})" if leaf.pr_number else name


def _leaves_prose(leaves: list[LeafChange]) -> str:
    """'added `a` (#3) and `b` (#4); changed `c` (#5)': each status once, at most MAX_LEAVES_NAMED named."""
    groups: dict[str, list[LeafChange]] = {}
    for leaf in leaves:
        groups.setdefault(leaf.status, []).append(leaf)
    parts, named = [], 0
    for status in sorted(groups, key=lambda s: (list(STATUS_WORDS).index(s) if s in STATUS_WORDS else 9, s)):
        group = groups[status]
        shown = group[: max(0, MAX_LEAVES_NAMED - named)]
        named += len(shown)
        names = [_leaf_name(leaf) for leaf in shown]
        if len(group) > len(shown):
            names.append(f"{len(group) - len(shown)} more")
        listed = names[0] if len(names) == 1 else ", ".join(names[:-1]) + " and " + names[-1]
        parts.append(f"{STATUS_WORDS.get(status, _cell(status))} {listed}")
    return "; ".join(parts)


def _data_prose(info: ReleaseInfo, previous: dict[str, Any] | None) -> str:
    """'It trained on 1,200 samples (knowledge 900, skills 300; 500 in v0)', or '' when not recorded."""
    samples = sum(info.data_counts.values())
    if not samples:
        return ""
    notes = [", ".join(f"{_cell(phase)} {count:,}" for phase, count in info.data_counts.items())]
    if len(info.data_counts) == 1:
        notes = [_cell(next(iter(info.data_counts)))]
    before = sum(((previous or {}).get("data_counts") or {}).values())
    if before:
        notes.append(f"{before:,} in {_cell((previous or {}).get('tag') or 'the previous release')}")
    return f"It trained on {samples:,} samples ({'; '.join(notes)})."


def _score_prose(info: ReleaseInfo, previous: dict[str, Any] | None) -> str:
    """The headline score against the previous release, or the base model, with the gate's word."""
    now = extract_metrics(info.evaluation)
    if not now:
        return "No evaluation was recorded for it."
    head = now[0]
    then = {m.name: m for m in extract_metrics((previous or {}).get("evaluation"))}.get(head.name)
    ci = f" (95% CI {format_value(head.ci[0])}-{format_value(head.ci[1])})" if head.ci else ""
    name = _cell(head.name)
    if then is not None:
        text = (f"On the taxonomy's seed questions {name} went from {format_value(then.value)} to "
                f"{format_value(head.value)}{ci}, {head.value - then.value:+.3f}.")
    elif head.baseline is not None:
        text = (f"On the taxonomy's seed questions it scores {name} {format_value(head.value)}{ci} against "
                f"{format_value(head.baseline)} for the base model, {head.value - head.baseline:+.3f}.")
    else:
        text = f"On the taxonomy's seed questions it scores {name} {format_value(head.value)}{ci}."
    gate = info.evaluation.get("gate") if isinstance(info.evaluation, dict) else None
    if isinstance(gate, dict) and gate.get("decision") in ("pass", "block"):
        reason = _cell(str(gate.get("reason") or "")).rstrip(".")
        verb = "passed" if gate["decision"] == "pass" else "blocked"
        text += f" The release gate {verb}" + (f": {reason}." if reason else ".")
    return text


def _changes(info: ReleaseInfo, previous: dict[str, Any] | None) -> list[str]:
    """One paragraph of prose: what changed since the previous release (leaves and PRs, data, score)."""
    base_url, sha, prev_sha = info.taxonomy_url(), info.taxonomy_sha, info.previous_taxonomy_sha
    leaves = _leaves_prose(info.leaves)
    if not prev_sha:
        opening = ("This is the first release of this model"
                   + (f": it learned the taxonomy's leaves, {leaves}." if leaves else "."))
        title = "## What is in this first release"
    else:
        tag = _cell((previous or {}).get("tag") or "the previous release")
        span = f"[`{prev_sha[:12]}...{sha[:12]}`]({base_url}/compare/{prev_sha}...{sha})"
        if leaves:
            opening = f"Since {tag} (taxonomy {span}) contributors {leaves}."
        elif prev_sha == sha:
            opening = f"Nothing changed in the taxonomy since {tag} (same commit `{sha[:12]}`): this is a retrain."
        else:
            opening = f"No taxonomy leaf changed since {tag} (taxonomy {span}): this is a retrain."
        title = f"## What changed since {tag}"
    body = " ".join(part for part in (opening, _data_prose(info, previous), _score_prose(info, previous)) if part)
    return [title, "", body, ""]


def _use_it(repo_id: str, tag: str, gguf_repo: str, ggufs: GGUFSet | None) -> list[str]:
    """How to run it: lab, transformers, and (from the GGUF twin) llama.cpp and Ollama."""
    lines = ["## Use it", "", "```sh", f"lab pull {repo_id} --release {tag}            # safetensors",
             f"lab pull {repo_id} --release {tag} --format gguf --quant Q4_K_M --verify  # for llama.cpp",
             f"lab chat {repo_id}", "```", "",
             "```python", "from transformers import AutoModelForCausalLM, AutoTokenizer",
             f'model = AutoModelForCausalLM.from_pretrained("{repo_id}", revision="{tag}")',
             f'tokenizer = AutoTokenizer.from_pretrained("{repo_id}", revision="{tag}")',
             f'messages = [{{"role": "system", "content": "{TRAINING_SYSTEM_PROMPT}"}},  # as in training',
             '            {"role": "user", "content": "What is the capital of France?"}]',
             "inputs = tokenizer.apply_chat_template(messages, add_generation_prompt=True, return_dict=True, "
             "return_tensors=\"pt\")",
             "output = model.generate(**inputs, max_new_tokens=64)",
             'print(tokenizer.decode(output[0][inputs["input_ids"].shape[1]:], skip_special_tokens=True))', "```", ""]
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
    worse = [e.get("leaf") for e in evaluation.get("leaves") or []
             if isinstance(e, dict) and e.get("verdict") in REGRESSED_VERDICTS]
    if worse:
        rows.append(f"- Regressed against the baseline on {len(worse)} leaf(s): "
                    + ", ".join(f"`{_cell(str(leaf)).replace('`', '')}`" for leaf in worse[:10]) + ".")
    fallback = [f.quant for f in (ggufs.files if ggufs else []) if "fallback" in f.types]
    if fallback:
        rows.append(f"- {', '.join(fallback)}: the model's rows are not a multiple of 256 values, so llama.cpp used "
                    "fallback types for some matrices (see the tensor types column).")
    if info.base_model:
        rows.append(f"- It keeps the limits of its base model `{_cell(info.base_model)}`; training on a few "
                    "taxonomy leaves does not add safety tuning.")
    return [*rows, ""]


def _leaves_table(info: ReleaseInfo) -> list[str]:
    """Each changed leaf with its PR and, from the evaluation, what it did on its own seed questions."""
    from lab.evaluate.impact import impact_sentence, leaf_impacts

    if not info.leaves:
        return ["_No leaf changed since the previous release._"]
    impacts = leaf_impacts(info.evaluation)
    lines = ["| leaf | change | pull request | on its seed questions (ROUGE-L before → after, 95% CI of the change) |",
             "| --- | --- | --- | --- |"]
    for leaf in info.leaves[:MAX_LEAVES_LISTED]:
        pr = f"[#{leaf.pr_number}]({leaf.pr_url})" if leaf.pr_number and leaf.pr_url else (
            f"#{leaf.pr_number}" if leaf.pr_number else "–")
        impact = impacts.get(leaf.path)
        did = _cell(impact_sentence(impact)) if impact else "not evaluated"
        lines.append(f"| `{_cell(leaf.path).replace('`', '')}` | {_cell(leaf.status)} | {pr} | {did} |")
    if len(info.leaves) > MAX_LEAVES_LISTED:
        lines.append(f"| … and {len(info.leaves) - MAX_LEAVES_LISTED} more | | | |")
    return lines


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
    lines += ["## Leaves added or changed", "", *_leaves_table(info), ""]

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
