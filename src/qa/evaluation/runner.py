"""`qa eval`: answer a question set against a freshly built index, score it, report, gate.

The index is always built in a temporary folder (or a named cache folder), never in the
serving `index/`, from the same code path as `qa index`.
"""

from __future__ import annotations

import hashlib
import json
import math
import subprocess
import tempfile
import time
import tomllib
from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from qa.answer.ranker import Ranker
from qa.core.settings import Settings
from qa.embed.loader import ModelLoader
from qa.embed.model import Embedder
from qa.evaluation.datasets import EvalItem
from qa.evaluation.metrics import Outcome, summarize
from qa.index.index import Index
from qa.service.engine import Engine
from qa.service.startup import prepare_index

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


@dataclass
class EvalRun:
    """Outcomes of one run, metrics per split, and what produced them."""

    name: str
    outcomes: list[Outcome]
    metrics: dict[str, dict[str, float]]
    meta: dict[str, Any]


def _overlaps(a: tuple[int, int], b: tuple[int, int]) -> bool:
    return a[0] < b[1] and b[0] < a[1]


def is_hit(item: EvalItem, doc_id: str, span: tuple[int, int]) -> bool:
    """Does a cited span answer `item`?

    Gold items: the span contains the evidence. SQuAD items: the span lies in the question's
    paragraph and overlaps a gold answer span.
    """
    if not item.answerable or doc_id != item.doc_id:
        return False
    if item.region is not None and not (item.region[0] <= span[0] and span[1] <= item.region[1]):
        return False
    if item.evidence is not None:
        return any(span[0] <= s and e <= span[1] for s, e in item.spans)
    return any(_overlaps(span, s) for s in item.spans)


def _write_corpus(texts: dict[str, str], folder: Path) -> None:
    folder.mkdir(parents=True, exist_ok=True)
    wanted = {f"{doc_id}.txt" for doc_id in texts}
    for old in folder.glob("*.txt"):
        if old.name not in wanted:
            old.unlink()
    for doc_id, text in texts.items():
        path = folder / f"{doc_id}.txt"
        data = text.encode("utf-8")
        if not path.exists() or path.read_bytes() != data:
            path.write_bytes(data)


def open_eval_engine(
    texts: dict[str, str],
    settings: Settings,
    work_dir: Path,
    *,
    embedder: Embedder | None = None,
    ranker: Ranker | None = None,
    log: Callable[[str], None] = lambda _m: None,
) -> Engine:
    """An engine over `texts`, indexed under `work_dir` through the normal build path."""
    _write_corpus(texts, work_dir / "seeds")
    local = settings.model_copy(
        update={"seeds_dir": work_dir / "seeds", "index_dir": work_dir / "index"}
    )
    models = ModelLoader(local, embedder)
    index: Index = prepare_index(local, models, progress=False, log=log)[0]
    return Engine(local, models.get(), index, ranker or Ranker.load(settings.ranker))


def score_item(item: EvalItem, engine: Engine, texts: dict[str, str], top_k: int) -> Outcome:
    """Ask one question and judge the response."""
    answerer = engine.state.answerer
    started = time.perf_counter()
    answer, candidates = answerer.ask_detailed(item.question, top_k)
    latency = (time.perf_counter() - started) * 1000
    index = engine.index
    rank = None
    hits: list[bool] = []
    for position, cand in enumerate(candidates, 1):
        doc, span, _ = index.span(cand.row)
        hit = is_hit(item, doc.doc_id, (span.start, span.end))
        hits.append(hit)
        if hit and rank is None:
            rank = position
    answered = answer.text is not None
    lead = answer.citations[0] if answer.citations else None
    answer_correct = bool(
        answered and lead is not None and is_hit(item, lead.doc_id, (lead.start, lead.end))
    )
    short_ok = (
        (answered and any(a in (answer.text or "") for a in item.answers)) if item.answers else None
    )
    valid = sum(texts.get(c.doc_id, "")[c.start : c.end] == c.text for c in answer.citations)
    dense_hit, lexical_hit = _retriever_hits(item, engine) if item.answerable else (None, None)
    # The short answer, scored end to end: over answered questions that have gold short answers,
    # whether a span was given, and its SQuAD token F1 (0 when the sentence itself is wrong).
    span_given: bool | None = None
    span_f1: float | None = None
    if item.answerable and answered and item.answers:
        span_given = answer.answer_span is not None
        if answer.answer_span is not None:
            from qa.evaluation.span_metrics import token_f1

            span_f1 = token_f1(answer.answer_span.text, item.answers)
    return Outcome(
        id=item.id,
        question=item.question,
        answerable=item.answerable,
        split=item.split,
        tags=item.tags,
        rank=rank,
        answered=answered,
        answer=answer.text,
        answer_correct=answer_correct,
        top_correct=bool(hits and hits[0]),
        short_answer_ok=short_ok if item.answerable else None,
        confidence=answer.confidence,
        citations=len(answer.citations),
        citations_valid=valid,
        latency_ms=round(latency, 3),
        expected=item.evidence or (item.answers[0] if item.answers else None),
        dense_hit=dense_hit,
        lexical_hit=lexical_hit,
        span_given=span_given,
        span_f1=span_f1,
    )


def _retriever_hits(item: EvalItem, engine: Engine) -> tuple[bool, bool]:
    """Does dense search alone, and BM25 alone, return a right sentence among its own top
    `candidates`? Measured apart from the answer, so a broken index shows even when the other
    retriever makes up for it."""
    from qa.answer.retrieval import _top
    from qa.index.lexical import tokenize

    index = engine.index
    n = engine.settings.candidates
    q = engine.embedder.encode([item.question])[0]
    _, rows = index.sentence_store.search(q[None, :], n)
    dense = [int(r) for r in rows[0] if r >= 0]
    lexical = _top(index.lexical.scores(tokenize([item.question])[0]), n)

    def any_hit(found: list[int]) -> bool:
        for row in found:
            doc, span, _ = index.span(row)
            if is_hit(item, doc.doc_id, (span.start, span.end)):
                return True
        return False

    return any_hit(dense), any_hit(lexical)


def run(
    name: str,
    items: Sequence[EvalItem],
    texts: dict[str, str],
    settings: Settings,
    *,
    work_dir: Path | None = None,
    embedder: Embedder | None = None,
    ranker: Ranker | None = None,
    top_k: int = 5,
    source: Path | None = None,
    log: Callable[[str], None] = lambda _m: None,
) -> EvalRun:
    """Build an index for `texts`, answer every item, and score the run."""
    with tempfile.TemporaryDirectory(prefix="qa-eval-") as tmp:
        folder = work_dir or Path(tmp)
        engine = open_eval_engine(
            texts, settings, folder, embedder=embedder, ranker=ranker, log=log
        )
        engine.ask("warm-up question")  # first call pays one-off costs; keep them out of p50
        outcomes = [score_item(item, engine, texts, top_k) for item in items]
        meta = _meta(name, engine, settings, source, len(texts))
    splits = sorted({o.split for o in outcomes} - {"all"})
    metrics = {"all": summarize(outcomes)}
    for split in splits:
        metrics[split] = summarize([o for o in outcomes if o.split == split])
    return EvalRun(name, outcomes, metrics, meta)


def _git_commit() -> str:
    try:
        commit = subprocess.run(
            ["git", "rev-parse", "HEAD"], capture_output=True, text=True, check=True, timeout=5
        ).stdout.strip()
        dirty = subprocess.run(
            ["git", "status", "--porcelain", "--untracked-files=no"],
            capture_output=True,
            text=True,
            timeout=5,
        ).stdout.strip()
    except (OSError, subprocess.SubprocessError):
        return "unknown"
    return commit + ("+dirty" if dirty else "")


def _meta(
    name: str, engine: Engine, settings: Settings, source: Path | None, documents: int
) -> dict[str, Any]:
    manifest = engine.index.manifest
    return {
        "name": name,
        "created": datetime.now(UTC).isoformat(timespec="seconds"),
        "git_commit": _git_commit(),
        "model": manifest["model"]["name"],
        "weights_sha256": manifest["model"]["weights_sha256"],
        "ranker": engine.ranker.source,
        "ranker_sha256": hashlib.sha256(
            json.dumps(engine.ranker.to_json(), sort_keys=True).encode()
        ).hexdigest(),
        "dataset": str(source) if source else None,
        "dataset_sha256": hashlib.sha256(source.read_bytes()).hexdigest() if source else None,
        "documents": documents,
        "sentences": engine.index.sentence_count,
        "settings": {
            k: (str(v) if isinstance(v, Path) else v)
            for k, v in settings.model_dump().items()
            if k not in ("seeds_dir", "index_dir", "host", "port")
        },
    }


# ------------------------------------------------------------------------------- reporting


def _fmt(value: float) -> str:
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
            cells = [_fmt(run.metrics[s].get(key, float("nan"))) for s in splits]
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
    misses = [o for o in run.outcomes if (o.answerable and not o.answer_correct)]
    wrong_answers = [o for o in run.outcomes if not o.answerable and o.answered]
    out += [f"## Misses ({len(misses)} answerable questions not answered right)", ""]
    out += _miss_table(misses[:500])
    out += ["", f"## Answered but unanswerable ({len(wrong_answers)})", ""]
    out += _miss_table(wrong_answers[:500])
    return "\n".join(out) + "\n"


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
    json_path.write_text(
        json.dumps(payload, indent=1, ensure_ascii=False, allow_nan=True) + "\n", encoding="utf-8"
    )
    md_path.write_text(markdown(run, failures), encoding="utf-8")
    return json_path, md_path


# ------------------------------------------------------------------------------------ gate


def load_thresholds(path: Path) -> dict[str, Any]:
    with path.open("rb") as handle:
        return tomllib.load(handle)


def gate(run: EvalRun, thresholds: dict[str, Any]) -> list[str]:
    """Every threshold `run` misses, as readable lines; [] when it passes.

    `thresholds[name][split]["min" | "max"][metric]` bounds a metric of one split.
    """
    if run.name not in thresholds:
        known = ", ".join(sorted(thresholds)) or "none"
        return [f"{run.name}: no thresholds for this run (the file has: {known})"]
    failures = []
    for split, bounds in thresholds[run.name].items():
        got = run.metrics.get(split)
        if got is None:
            failures.append(f"{run.name}/{split}: no questions in this split")
            continue
        for kind, limits in bounds.items():
            for metric, limit in limits.items():
                value = got.get(metric, float("nan"))
                bad = (
                    math.isnan(value)
                    or (kind == "min" and value < limit)
                    or (kind == "max" and value > limit)
                )
                if bad:
                    word = "below" if kind == "min" else "above"
                    failures.append(
                        f"{run.name}/{split}: {metric} = {_fmt(value)} is {word} "
                        f"the threshold {limit}"
                    )
    return failures


# ------------------------------------------------------------------------ corpus sizes


@dataclass
class SizedRun:
    """Held-out outcomes on sampled corpora, grouped by set and corpus size."""

    groups: dict[tuple[str, int], list[Outcome]]
    corpora: dict[tuple[str, int], int]
    meta: dict[str, Any]


def run_sizes(
    corpora: Sequence[Any],
    settings: Settings,
    work_dir: Path,
    *,
    ranker: Ranker | None = None,
    top_k: int = 5,
    log: Callable[[str], None] = lambda _m: None,
) -> SizedRun:
    """Answer the held-out questions of every sampled corpus (`corpora.SampledCorpus`)."""
    from qa.embed.model import CachingEmbedder
    from qa.evaluation.corpora import HELD_OUT_FOLD

    embedder = CachingEmbedder(ModelLoader(settings).get())
    groups: dict[tuple[str, int], list[Outcome]] = {}
    counts: dict[tuple[str, int], int] = {}
    engine = None
    for corpus in corpora:
        items = [i for i in corpus.items if i.extra.get("fold") == HELD_OUT_FOLD]
        engine = open_eval_engine(
            corpus.texts, settings, work_dir / corpus.name, embedder=embedder, ranker=ranker
        )
        outcomes = [score_item(item, engine, corpus.texts, top_k) for item in items]
        key = (corpus.pool, corpus.size)
        groups.setdefault(key, []).extend(outcomes)
        counts[key] = counts.get(key, 0) + 1
        log(f"{corpus.name}: {len(corpus.texts)} articles, {len(items)} held-out questions")
    meta = _meta("sizes", engine, settings, None, 0) if engine is not None else {}
    return SizedRun(groups, counts, meta)


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
        cells = [_fmt(metrics.get(k, float("nan"))) for k, _ in SIZE_COLUMNS]
        n = result.corpora[(pool, size)]
        lines.append(f"| {pool} | {size} | {n} | " + " | ".join(cells) + " |")
        if pool != "gold":
            bucket = 1 if size == 1 else 4 if size <= 4 else 16 if size <= 16 else 64
            by_size.setdefault(bucket, []).extend(outcomes)
    for bucket, outcomes in sorted(by_size.items()):
        metrics = summarize(outcomes)
        cells = [_fmt(metrics.get(k, float("nan"))) for k, _ in SIZE_COLUMNS]
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
