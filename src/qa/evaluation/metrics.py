"""Answer-quality metrics over per-question outcomes (pure functions, no model needed)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np


@dataclass(frozen=True)
class Outcome:
    """What happened to one question."""

    id: str
    question: str
    answerable: bool
    split: str
    tags: tuple[str, ...]
    rank: int | None  # 1-based rank of the first right sentence among the candidates
    answered: bool
    answer: str | None
    answer_correct: bool  # answered, and the answer holds the expected evidence
    top_correct: bool  # the best candidate is right (whether or not it was withheld)
    short_answer_ok: bool | None  # None when the item has no short answer
    confidence: float
    citations: int
    citations_valid: int
    latency_ms: float
    expected: str | None = None
    dense_hit: bool | None = None  # dense search alone finds a right sentence (answerable only)
    lexical_hit: bool | None = None  # ... and BM25 alone
    span_given: bool | None = None  # answered, with gold short answers: was a span given?
    span_f1: float | None = None  # its token F1 against the gold short answers


def _share(numerator: int, denominator: int) -> float:
    return numerator / denominator if denominator else float("nan")


def auroc(scores: Sequence[float], labels: Sequence[bool]) -> float:
    """Area under the ROC curve (probability a positive outscores a negative; ties count half)."""
    s = np.asarray(scores, dtype=np.float64)
    y = np.asarray(labels, dtype=bool)
    pos, neg = int(y.sum()), int((~y).sum())
    if not pos or not neg:
        return float("nan")
    order = np.argsort(s, kind="mergesort")
    ranks = np.empty(len(s), dtype=np.float64)
    sorted_s = s[order]
    i = 0
    while i < len(s):  # average ranks over ties
        j = i
        while j + 1 < len(s) and sorted_s[j + 1] == sorted_s[i]:
            j += 1
        ranks[order[i : j + 1]] = (i + j) / 2 + 1
        i = j + 1
    return float((ranks[y].sum() - pos * (pos + 1) / 2) / (pos * neg))


def expected_calibration_error(
    probabilities: Sequence[float], labels: Sequence[bool], bins: int = 10
) -> float:
    """Mean |accuracy - confidence| over equal-width probability bins, weighted by bin size."""
    p = np.asarray(probabilities, dtype=np.float64)
    y = np.asarray(labels, dtype=np.float64)
    if not len(p):
        return float("nan")
    which = np.minimum((p * bins).astype(int), bins - 1)
    total = 0.0
    for b in range(bins):
        mask = which == b
        if mask.any():
            total += mask.sum() * abs(y[mask].mean() - p[mask].mean())
    return float(total / len(p))


def percentile(values: Sequence[float], q: float) -> float:
    return float(np.percentile(values, q)) if len(values) else float("nan")


def summarize(outcomes: Sequence[Outcome]) -> dict[str, float]:
    """Every metric of the report for a list of outcomes."""
    answerable = [o for o in outcomes if o.answerable]
    unanswerable = [o for o in outcomes if not o.answerable]
    ranks = [o.rank for o in answerable]
    abstained_right = sum(not o.answered for o in unanswerable)
    abstained_wrong = sum(not o.answered for o in answerable)
    precision = _share(abstained_right, abstained_right + abstained_wrong)
    recall = _share(abstained_right, len(unanswerable))
    f1 = (
        2 * precision * recall / (precision + recall)
        if precision + recall > 0
        else (0.0 if unanswerable else float("nan"))
    )
    with_short = [o for o in answerable if o.short_answer_ok is not None]
    metrics: dict[str, float] = {
        "questions": len(outcomes),
        "answerable": len(answerable),
        "unanswerable": len(unanswerable),
        "recall_at_1": _share(sum(r is not None and r <= 1 for r in ranks), len(ranks)),
        "recall_at_3": _share(sum(r is not None and r <= 3 for r in ranks), len(ranks)),
        "recall_at_5": _share(sum(r is not None and r <= 5 for r in ranks), len(ranks)),
        "mrr": float(np.mean([1 / r if r else 0.0 for r in ranks])) if ranks else float("nan"),
        "answer_accuracy": _share(sum(o.answer_correct for o in answerable), len(answerable)),
        # Each retriever on its own (its top `QA_CANDIDATES` sentences hold a right one).
        "dense_recall": _share(
            sum(bool(o.dense_hit) for o in answerable),
            sum(o.dense_hit is not None for o in answerable),
        ),
        "bm25_recall": _share(
            sum(bool(o.lexical_hit) for o in answerable),
            sum(o.lexical_hit is not None for o in answerable),
        ),
        "short_answer_containment": _share(
            sum(bool(o.short_answer_ok) for o in with_short), len(with_short)
        ),
        "span_coverage": _share(
            sum(bool(o.span_given) for o in outcomes),
            sum(o.span_given is not None for o in outcomes),
        ),
        "span_f1": float(np.mean(f1s))
        if (f1s := [o.span_f1 for o in outcomes if o.span_f1 is not None])
        else float("nan"),
        "abstention_precision": precision,
        "abstention_recall": recall,
        "abstention_f1": f1,
        "false_abstention_rate": _share(abstained_wrong, len(answerable)),
        "citation_validity": _share(
            sum(o.citations_valid for o in outcomes), sum(o.citations for o in outcomes)
        ),
        "confidence_auroc": auroc(
            [o.confidence for o in outcomes], [o.top_correct for o in outcomes]
        ),
        "confidence_ece": expected_calibration_error(
            [o.confidence for o in outcomes], [o.top_correct for o in outcomes]
        ),
        "latency_p50_ms": percentile([o.latency_ms for o in outcomes], 50),
        "latency_p95_ms": percentile([o.latency_ms for o in outcomes], 95),
    }
    metrics |= _abstention_by_tag(unanswerable)
    metrics |= _confidence_of_right(answerable, unanswerable)
    return metrics


def _abstention_by_tag(unanswerable: Sequence[Outcome]) -> dict[str, float]:
    """Abstention recall per kind of unanswerable question (kinds with no question left out)."""
    metrics = {}
    for tag in ("off-topic", "near-topic", "left-out", "unanswerable"):
        tagged = [o for o in unanswerable if tag in o.tags]
        if tagged:
            metrics[f"abstention_recall_{tag.replace('-', '_')}"] = _share(
                sum(not o.answered for o in tagged), len(tagged)
            )
    return metrics


def _confidence_of_right(
    answerable: Sequence[Outcome], unanswerable: Sequence[Outcome]
) -> dict[str, float]:
    """The median confidence of right answers, and how well it ranks them above unanswerable
    questions."""
    right = [o for o in answerable if o.top_correct]
    metrics = {
        "median_confidence_right": (
            float(np.median([o.confidence for o in right])) if right else float("nan")
        )
    }
    # Does confidence put right answers above questions the articles cannot answer? SQuAD 2.0's
    # own unanswerable questions (tag "unanswerable"), written to mislead, are scored apart.
    for name, negatives in (
        ("auroc_right_vs_unanswerable", [o for o in unanswerable if "unanswerable" not in o.tags]),
        (
            "auroc_right_vs_squad_unanswerable",
            [o for o in unanswerable if "unanswerable" in o.tags],
        ),
    ):
        if right and negatives:
            metrics[name] = auroc(
                [o.confidence for o in right + negatives],
                [True] * len(right) + [False] * len(negatives),
            )
    return metrics


def reliability(outcomes: Sequence[Outcome], bins: int = 10) -> list[tuple[str, int, float, float]]:
    """Per confidence bin: its range, how many questions, mean confidence, share answered right
    (the best candidate is right). Calibrated confidence has the last two about equal."""
    rows = []
    for b in range(bins):
        low, high = b / bins, (b + 1) / bins
        inside = [
            o
            for o in outcomes
            if low <= o.confidence < high or (b == bins - 1 and o.confidence == 1)
        ]
        if inside:
            rows.append(
                (
                    f"{low:.1f}-{high:.1f}",
                    len(inside),
                    float(np.mean([o.confidence for o in inside])),
                    float(np.mean([o.top_correct for o in inside])),
                )
            )
    return rows
