"""The evaluation report: per-item, per-leaf, per-domain and overall figures, the comparison and the gate,
built as plain data, and its Markdown rendering."""

from __future__ import annotations

from collections import defaultdict
from statistics import fmean
from typing import Any

from lab.evaluate.compare import Delta, bootstrap_ci, decide_gate, paired_delta
from lab.evaluate.items import EvalItem

SCORES = ("rouge_l", "exact_match")
MAX_ITEMS_IN_MARKDOWN = 50


def _mean(values: list[float]) -> float:
    return round(fmean(values), 6) if values else 0.0


def _ppl(scores: dict[str, Any] | None, leaf: str) -> float | None:
    value = (scores or {}).get("perplexity", {}).get(leaf)
    return round(value, 4) if value is not None else None


def _leaf_entry(leaf: str, idx: list[int], items: list[EvalItem], model: dict, baseline: dict | None,
                min_effect: float, seed: int) -> tuple[dict[str, Any], Delta | None]:
    first = items[idx[0]]
    entry: dict[str, Any] = {"leaf": leaf, "domain": first.domain, "kind": first.kind, "n": len(idx),
                             "perplexity": _ppl(model, leaf)}
    entry |= {name: _mean([model[name][i] for i in idx]) for name in SCORES}
    if baseline is None:
        return entry, None
    entry["baseline"] = {name: _mean([baseline[name][i] for i in idx]) for name in SCORES}
    entry["baseline"]["perplexity"] = _ppl(baseline, leaf)
    deltas = {name: paired_delta([model[name][i] for i in idx], [baseline[name][i] for i in idx], min_effect, seed)
              for name in SCORES}
    entry["delta"] = {name: delta.to_dict() for name, delta in deltas.items()}
    entry["verdict"] = deltas["rouge_l"].verdict
    return entry, deltas["rouge_l"]


def build_report(items: list[EvalItem], model: dict[str, Any], baseline: dict[str, Any] | None, *,
                 min_effect: float, allow_regression: bool, seed: int) -> dict[str, Any]:
    """Everything `lab evaluate` reports, from per-item scores of the model (and the baseline)."""
    by_leaf: dict[str, list[int]] = defaultdict(list)
    for index, item in enumerate(items):
        by_leaf[item.leaf].append(index)
    leaves, leaf_deltas = [], {}
    for leaf, idx in by_leaf.items():
        entry, delta = _leaf_entry(leaf, idx, items, model, baseline, min_effect, seed)
        leaves.append(entry)
        if delta is not None:
            leaf_deltas[leaf] = delta
    metrics: dict[str, Any] = {}
    overall: dict[str, Delta] = {}
    for name in SCORES:
        values = model[name]
        ci = bootstrap_ci(values, seed)
        metrics[name] = {"value": _mean(values), "ci": [round(ci[0], 6), round(ci[1], 6)], "n": len(values)}
        if baseline is not None:
            overall[name] = paired_delta(values, baseline[name], min_effect, seed)
            metrics[name] |= {"baseline": _mean(baseline[name]), "delta": overall[name].to_dict()}
    ppl = [e["perplexity"] for e in leaves if e["perplexity"] is not None]
    if ppl:
        metrics["perplexity"] = {"value": _mean(ppl), "n": len(ppl)}
        base_ppl = [e["baseline"]["perplexity"] for e in leaves if baseline and e["baseline"]["perplexity"] is not None]
        if base_ppl:
            metrics["perplexity"]["baseline"] = _mean(base_ppl)
    domains: dict[str, Any] = {}
    for entry in leaves:
        d = domains.setdefault(entry["domain"], {"leaves": 0, "n": 0, "_r": [], "_e": [], "_b": [], "_p": [],
                                                 "verdicts": defaultdict(int)})
        d["leaves"] += 1
        d["n"] += entry["n"]
        d["_r"].append(entry["rouge_l"])
        d["_e"].append(entry["exact_match"])
        if entry["perplexity"] is not None:
            d["_p"].append(entry["perplexity"])
        if "baseline" in entry:
            d["_b"].append(entry["baseline"]["rouge_l"])
            d["verdicts"][entry["verdict"]] += 1
    for d in domains.values():
        d["rouge_l"], d["exact_match"] = _mean(d.pop("_r")), _mean(d.pop("_e"))
        ppl_values = d.pop("_p")
        d["perplexity"] = _mean(ppl_values) if ppl_values else None
        base = d.pop("_b")
        d["baseline_rouge_l"] = _mean(base) if base else None
        d["verdicts"] = dict(d["verdicts"])
    gate = decide_gate(overall.get("rouge_l"), leaf_deltas, allow_regression)
    rows = []
    for index, item in enumerate(items):
        row = {"leaf": item.leaf, "question": item.question, "reference": item.reference,
               "answer": model["answers"][index], "rouge_l": round(model["rouge_l"][index], 4),
               "exact_match": model["exact_match"][index]}
        if baseline is not None:
            row |= {"baseline_answer": baseline["answers"][index], "baseline_rouge_l": round(baseline["rouge_l"][index], 4)}
        rows.append(row)
    return {"metrics": metrics, "leaves": leaves, "domains": domains, "items": rows,
            "gate": gate.to_dict() | {"min_effect": min_effect, "allow_regression": allow_regression, "score": "rouge_l"},
            "seed": seed}


def _one_line(text: str, limit: int = 200) -> str:
    return repr(" ".join(text.split())[:limit])


def _fmt(value: Any) -> str:
    return "–" if value is None else f"{value:.3f}" if isinstance(value, float) else str(value)


def render_markdown(report: dict[str, Any]) -> str:
    """A readable page: gate, overall metrics, domains, leaves, and the first items."""
    gate = report["gate"]
    lines = [f"# Evaluation of `{report.get('model', '?')}`", ""]
    if report.get("baseline"):
        lines.append(f"Compared with `{report['baseline']}` on the same {report['metrics']['rouge_l']['n']} seed questions.")
    lines += ["", f"**Gate: {gate['decision'].upper()}** — {gate['reason']} (minimum effect {gate['min_effect']}).", "",
              "| metric | model | 95% CI | baseline | change | 95% CI of change | verdict |", "| --- | --- | --- | --- | --- | --- | --- |"]
    for name, m in report["metrics"].items():
        delta = m.get("delta") or {}
        ci = m.get("ci")
        dci = delta.get("ci")
        lines.append(f"| {name} | {_fmt(m['value'])} | {f'{ci[0]:.3f}..{ci[1]:.3f}' if ci else '–'} | {_fmt(m.get('baseline'))} | "
                     f"{_fmt(delta.get('mean'))} | {f'{dci[0]:+.3f}..{dci[1]:+.3f}' if dci else '–'} | {delta.get('verdict', '–')} |")
    lines += ["", "## Domains", "", "| domain | leaves | questions | ROUGE-L | exact match | perplexity | baseline ROUGE-L |",
              "| --- | --- | --- | --- | --- | --- | --- |"]
    for name, d in sorted(report["domains"].items()):
        lines.append(f"| {name} | {d['leaves']} | {d['n']} | {_fmt(d['rouge_l'])} | {_fmt(d['exact_match'])} | "
                     f"{_fmt(d.get('perplexity'))} | {_fmt(d['baseline_rouge_l'])} |")
    lines += ["", "## Leaves", "", "| leaf | n | ROUGE-L | EM | perplexity | baseline ROUGE-L | change (95% CI) | verdict |",
              "| --- | --- | --- | --- | --- | --- | --- | --- |"]
    for e in report["leaves"]:
        delta = (e.get("delta") or {}).get("rouge_l") or {}
        change = f"{delta['mean']:+.3f} ({delta['ci'][0]:+.3f}..{delta['ci'][1]:+.3f})" if delta else "–"
        lines.append(f"| `{e['leaf']}` | {e['n']} | {_fmt(e['rouge_l'])} | {_fmt(e['exact_match'])} | {_fmt(e['perplexity'])} | "
                     f"{_fmt((e.get('baseline') or {}).get('rouge_l'))} | {change} | {e.get('verdict', '–')} |")
    lines += ["", "## Answers", ""]
    for row in report["items"][:MAX_ITEMS_IN_MARKDOWN]:
        lines.append(f"- {_one_line(row['question'])} — expected {_one_line(row['reference'])}, got {_one_line(row['answer'])} "
                     f"(ROUGE-L {row['rouge_l']:.2f})")
    if len(report["items"]) > MAX_ITEMS_IN_MARKDOWN:
        lines.append(f"- … {len(report['items']) - MAX_ITEMS_IN_MARKDOWN} more in report.json")
    return "\n".join(lines) + "\n"
