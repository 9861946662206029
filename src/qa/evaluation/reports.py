"""`qa eval`'s reports: the summary table, the Markdown and JSON reports, and the
per-size tables of `qa eval --sizes`."""

from __future__ import annotations

import json
import math
from collections.abc import Sequence
from dataclasses import asdict
from pathlib import Path

from qa.evaluation.followups import FollowupRun
from qa.evaluation.metrics import Outcome, summarize
from qa.evaluation.runner import EvalRun, SizedRun

# Metrics shown in the printed table and the Markdown summary, in this order.
SHOWN = (
    "questions",
    "recall_at_1",
    "recall_at_3",
    "recall_at_5",
    "mrr",
    "dense_recall",
    "bm25_recall",
    "answer_accuracy",
    "short_answer_containment",
    "span_coverage",
    "span_f1",
    "abstention_precision",
    "abstention_recall",
    "abstention_f1",
    "abstention_recall_off_topic",
    "abstention_recall_near_topic",
    "false_abstention_rate",
    "citation_validity",
    "confidence_auroc",
    "confidence_ece",
    "latency_p50_ms",
    "latency_p95_ms",
)


def fmt(value: float) -> str:
    """A metric for a table: "–" for NaN, counts as integers, shares to three decimals."""
    if isinstance(value, float) and math.isnan(value):
        return "–"
    if isinstance(value, int) or (float(value).is_integer() and value > 1):
        return f"{int(value)}"
    return f"{value:.3f}"


def table(run: EvalRun) -> str:
    """The summary as a Markdown table: one row per metric, one column per split."""
    splits = list(run.metrics)
    lines = ["| metric | " + " | ".join(splits) + " |", "|---|" + "---:|" * len(splits)]
    for key in SHOWN:
        if any(key in run.metrics[s] for s in splits):
            cells = [fmt(run.metrics[s].get(key, float("nan"))) for s in splits]
            lines.append(f"| {key} | " + " | ".join(cells) + " |")
    return "\n".join(lines)


def markdown(run: EvalRun, failures: Sequence[str] = ()) -> str:
    meta = run.meta
    out = [
        f"# Eval report: {run.name}",
        "",
        f"- created: {meta['created']}, commit `{meta['git_commit']}`",
        f"- model: {meta['model']} (weights sha256 `{meta['weights_sha256'][:16]}…`)",
        f"- ranker: `{meta['ranker']}` (sha256 `{meta['ranker_sha256'][:16]}…`)",
        f"- dataset: `{meta['dataset']}`; {meta['documents']} documents, "
        f"{meta['sentences']} sentences",
        "- reproduce: `qa eval " + (f"--squad {meta['dataset']}`" if run.name != "gold" else "`"),
        "",
        table(run),
        "",
    ]
    if failures:
        out += ["## Gate failures", ""] + [f"- {f}" for f in failures] + [""]
    if run.followup is not None:
        out += followup_markdown(run.followup)
    misses = [o for o in run.outcomes if (o.answerable and not o.answer_correct)]
    wrong_answers = [o for o in run.outcomes if not o.answerable and o.answered]
    out += [f"## Misses ({len(misses)} answerable questions not answered right)", ""]
    out += _miss_table(misses[:500])
    out += ["", f"## Answered but unanswerable ({len(wrong_answers)})", ""]
    out += _miss_table(wrong_answers[:500])
    return "\n".join(out) + "\n"


FOLLOWUP_ROWS = (
    ("article@1", "article_at_1"),
    ("sentence@1", "sentence_at_1"),
    ("answered right", "answer_accuracy"),
)


def followup_table(result: FollowupRun) -> str:
    """Follow-up accuracy with the history and alone, over all follow-ups and per split, as a
    Markdown table."""
    groups = {"all": result.metrics, **result.splits}
    counts = " | ".join(f"{name} ({int(m['followups'])})" for name, m in groups.items())
    rows = [
        f"| follow-ups right first, with history / alone | {counts} |",
        "|---|" + "---:|" * len(groups),
    ]
    for label, key in FOLLOWUP_ROWS:
        cells = [
            f"{fmt(m[key + '_with_history'])} / {fmt(m[key + '_alone'])}" for m in groups.values()
        ]
        rows.append(f"| {label} | " + " | ".join(cells) + " |")
    m = result.metrics
    notes = [
        f"{int(m['first_questions'])} first questions over {result.documents} articles, "
        f"sentence@1 {fmt(m['first_sentence_at_1'])}; follow-ups read as follow-ups "
        f"{fmt(m['read_as_followup'])}",
    ]
    if "standalone_read_as_followup" in m:
        notes.append(
            "gold questions that would be read as follow-ups after another question "
            f"{fmt(m['standalone_read_as_followup'])}"
        )
    return "\n".join(rows) + "\n\n" + "; ".join(notes) + "."


def followup_markdown(result: FollowupRun) -> list[str]:
    """The follow-up section of the gold report: the table and every follow-up."""
    out = ["## Follow-up questions", "", followup_table(result), ""]
    out += [
        "| id | split | follows | question | read as | with history | alone |",
        "|---" * 7 + "|",
    ]
    for o in result.outcomes:
        if o.previous is None:
            continue
        out.append(
            f"| {o.id} | {o.split} | {o.previous} | {_cell(o.question)} | "
            f"{_cell(o.with_history.interpreted_as or '–')} | "
            f"{_mark(o.with_history.sentence_right, o.with_history.doc_id)} | "
            f"{_mark(o.alone.sentence_right, o.alone.doc_id)} |"
        )
    return [*out, ""]


def _mark(right: bool, doc_id: str | None) -> str:
    return ("right" if right else "wrong") + f" ({doc_id or 'nothing'})"


def _cell(text: str | None, limit: int = 160) -> str:
    if text is None:
        return "*(abstained)*"
    text = " ".join(text.split()).replace("|", "\\|")
    return text if len(text) <= limit else text[: limit - 1] + "…"


def _miss_table(outcomes: Sequence[Outcome]) -> list[str]:
    if not outcomes:
        return ["None."]
    rows = [
        "| id | split | question | expected | returned answer | conf | rank |",
        "|---" * 7 + "|",
    ]
    for o in outcomes:
        rows.append(
            f"| {o.id} | {o.split} | {_cell(o.question)} | {_cell(o.expected or '–')} | "
            f"{_cell(o.answer)} | {o.confidence:.2f} | {o.rank or '–'} |"
        )
    return rows


def write_reports(run: EvalRun, folder: Path, failures: Sequence[str] = ()) -> tuple[Path, Path]:
    """JSON (everything) and Markdown (summary and misses) reports for `run`."""
    folder.mkdir(parents=True, exist_ok=True)
    slug = run.name.replace("/", "_")
    json_path = folder / f"{slug}.json"
    md_path = folder / f"{slug}.md"
    payload = {
        "meta": run.meta,
        "metrics": run.metrics,
        "gate_failures": list(failures),
        "outcomes": [asdict(o) for o in run.outcomes],
    }
    if run.followup is not None:
        payload["followup"] = {
            "metrics": run.followup.metrics,
            "splits": run.followup.splits,
            "outcomes": [asdict(o) for o in run.followup.outcomes],
        }
    json_path.write_text(
        json.dumps(payload, indent=1, ensure_ascii=False, allow_nan=True) + "\n", encoding="utf-8"
    )
    md_path.write_text(markdown(run, failures), encoding="utf-8")
    return json_path, md_path


SIZE_COLUMNS = (
    ("questions", "questions"),
    ("answerable", "answerable"),
    ("recall_at_1", "top-1"),
    ("recall_at_5", "top-5"),
    ("mrr", "MRR"),
    ("false_abstention_rate", "false abst."),
    ("median_confidence_right", "median conf. of right answers"),
    ("abstention_recall_left_out", "abst. left-out"),
    ("abstention_recall_off_topic", "abst. off-topic"),
    ("abstention_recall_near_topic", "abst. near-topic"),
    ("abstention_recall_unanswerable", "abst. SQuAD unans."),
    ("auroc_right_vs_unanswerable", "AUROC right vs unans."),
    ("auroc_right_vs_squad_unanswerable", "AUROC vs SQuAD unans."),
    ("confidence_ece", "ECE"),
    ("span_coverage", "span coverage"),
    ("span_f1", "span F1"),
)


def sizes_markdown(result: SizedRun) -> str:
    """Per set and size, then per size over the SQuAD-format sets, then the reliability table."""
    from qa.evaluation.metrics import reliability

    head = "| set | articles | corpora | " + " | ".join(c[1] for c in SIZE_COLUMNS) + " |"
    lines = [head, "|---|---:|---:|" + "---:|" * len(SIZE_COLUMNS)]
    by_size: dict[int, list[Outcome]] = {}
    for (pool, size), outcomes in sorted(result.groups.items()):
        metrics = summarize(outcomes)
        cells = [fmt(metrics.get(k, float("nan"))) for k, _ in SIZE_COLUMNS]
        n = result.corpora[(pool, size)]
        lines.append(f"| {pool} | {size} | {n} | " + " | ".join(cells) + " |")
        if pool != "gold":
            bucket = 1 if size == 1 else 4 if size <= 4 else 16 if size <= 16 else 64
            by_size.setdefault(bucket, []).extend(outcomes)
    for bucket, outcomes in sorted(by_size.items()):
        metrics = summarize(outcomes)
        cells = [fmt(metrics.get(k, float("nan"))) for k, _ in SIZE_COLUMNS]
        size_label = {1: "1", 4: "4", 16: "16", 64: "48-64"}[bucket]
        lines.append(f"| **four sets** | **{size_label}** | | " + " | ".join(cells) + " |")
    everything = [o for outcomes in result.groups.values() for o in outcomes]
    lines += [
        "",
        "Reliability (every held-out question; right = the best sentence answers it):",
        "",
    ]
    lines += ["| confidence | questions | mean confidence | right |", "|---|---:|---:|---:|"]
    for label, count, mean, right in reliability(everything):
        lines.append(f"| {label} | {count} | {mean:.3f} | {right:.3f} |")
    return "\n".join(lines) + "\n"


def write_size_reports(result: SizedRun, folder: Path) -> str:
    """sizes.md and sizes.json for `qa eval --sizes`; returns the Markdown tables."""
    text = sizes_markdown(result)
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "sizes.md").write_text(
        f"# Held-out figures per set and corpus size\n\n- ranker: `{result.meta.get('ranker')}`"
        f" (sha256 `{str(result.meta.get('ranker_sha256'))[:16]}…`), commit "
        f"`{result.meta.get('git_commit')}`\n- reproduce: `qa eval --sizes`\n\n" + text,
        encoding="utf-8",
    )
    payload = {
        f"{pool}/{size}": summarize(outcomes) for (pool, size), outcomes in result.groups.items()
    }
    (folder / "sizes.json").write_text(
        json.dumps({"meta": result.meta, "metrics": payload}, indent=1) + "\n", encoding="utf-8"
    )
    return text
