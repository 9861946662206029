"""`qa train-ranker`: learn the ranker and the confidence model from question sets.

Training data is SQuAD 2.0 (squad2-dev-half) and the gold set's dev part, never the gold test
part or XQuAD. Every question is asked against the whole corpus of its set; each candidate
sentence becomes a row of features labelled by whether it answers. Unanswerable questions
contribute only negatives, which is what teaches the models to abstain.

The ranker is a listwise (softmax) linear model over each question's candidates: it learns
to put the answering sentence first, which is what top-1 measures, rather than to classify rows
one by one. Figures are reported from 5-fold cross-validation grouped by article. The confidence
model is fitted afterwards, for this ranker, on corpora of many sizes (`qa.training.calibrate`).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from qa.answer.features import ALL_FEATURES
from qa.answer.ranker import Ranker
from qa.engine.engine import Engine
from qa.evaluation.datasets import EvalItem
from qa.evaluation.scoring import is_hit
from qa.training.fitting import fit_listwise, grouped_folds

if TYPE_CHECKING:
    from numpy.typing import NDArray

L2 = 1e-3
FOLDS = 5


@dataclass
class Examples:
    """Candidate rows of many questions."""

    x: NDArray[np.float64]  # (rows, len(ALL_FEATURES))
    y: NDArray[np.bool_]  # does the row's sentence answer its question
    question: NDArray[np.int64]  # row -> question number
    group: list[str]  # question number -> article (for grouped folds)
    answerable: NDArray[np.bool_]  # question number -> answerable
    weight: NDArray[np.float64]  # question number -> sample weight
    source: list[str]  # question number -> dataset name


def collect(
    items: Sequence[EvalItem],
    engine: Engine,
    source: str,
    weight: float = 1.0,
    progress: Callable[[int], None] = lambda _n: None,
) -> Examples:
    """Candidate features and labels for every item, asked against `engine`'s index."""
    retriever = engine.state.answerer.retriever
    index = engine.index
    xs: list[NDArray[np.float64]] = []
    ys: list[NDArray[np.bool_]] = []
    qs: list[NDArray[np.int64]] = []
    for number, item in enumerate(items):
        candidates = retriever.retrieve(item.question)
        if candidates:
            xs.append(np.array([c.features for c in candidates], dtype=np.float64))
            labels = []
            for c in candidates:
                doc, span, _ = index.span(c.row)
                labels.append(is_hit(item, doc.doc_id, (span.start, span.end)))
            ys.append(np.array(labels, dtype=bool))
            qs.append(np.full(len(candidates), number, dtype=np.int64))
        progress(number + 1)
    empty = np.zeros((0, len(ALL_FEATURES)))
    return Examples(
        x=np.concatenate(xs) if xs else empty,
        y=np.concatenate(ys) if ys else np.zeros(0, bool),
        question=np.concatenate(qs) if qs else np.zeros(0, np.int64),
        group=[i.doc_id or source for i in items],
        answerable=np.array([i.answerable for i in items], dtype=bool),
        weight=np.full(len(items), weight),
        source=[source] * len(items),
    )


def merge(parts: Sequence[Examples]) -> Examples:
    offset = 0
    questions = []
    for part in parts:
        questions.append(part.question + offset)
        offset += len(part.group)
    return Examples(
        x=np.concatenate([p.x for p in parts]),
        y=np.concatenate([p.y for p in parts]),
        question=np.concatenate(questions),
        group=[g for p in parts for g in p.group],
        answerable=np.concatenate([p.answerable for p in parts]),
        weight=np.concatenate([p.weight for p in parts]),
        source=[s for p in parts for s in p.source],
    )


def first_hit_ranks(
    ex: Examples, logits: NDArray[np.float64], questions: NDArray[np.int64]
) -> NDArray[np.float64]:
    """Per question of `questions`: the 1-based rank of its first right candidate under
    `logits` (inf when none is right)."""
    ranks = np.full(len(questions), np.inf)
    order = np.argsort(ex.question, kind="stable")
    starts = np.searchsorted(ex.question[order], questions, side="left")
    ends = np.searchsorted(ex.question[order], questions, side="right")
    for i, (a, b) in enumerate(zip(starts, ends, strict=True)):
        rows = order[a:b]
        ranked = rows[np.argsort(-logits[rows], kind="stable")]
        hits = np.flatnonzero(ex.y[ranked])
        if len(hits):
            ranks[i] = hits[0] + 1
    return ranks


def _rows_of(ex: Examples, questions: NDArray[np.int64]) -> NDArray[np.bool_]:
    return np.isin(ex.question, questions)


def fit(ex: Examples, questions: NDArray[np.int64], l2: float) -> tuple[NDArray[np.float64], float]:
    """Ranker weights fitted on the rows of `questions` (softmax scores need no bias)."""
    rows = _rows_of(ex, questions)
    w = fit_listwise(ex.x[rows], ex.y[rows], ex.question[rows], l2, ex.weight)
    return w, 0.0


def scores(ranks: NDArray[np.float64], answerable: NDArray[np.bool_]) -> dict[str, float]:
    """Ranking figures of held-out answerable questions."""
    r = ranks[answerable]
    if not len(r):
        return {"questions": len(ranks), "answerable": 0}
    return {
        "questions": len(ranks),
        "answerable": len(r),
        "top1": float((r <= 1).mean()),
        "top5": float((r <= 5).mean()),
        "mrr": float(np.mean(1 / r)),
    }


def cross_validate(
    ex: Examples, questions: NDArray[np.int64], l2: float, features: Sequence[str] = ALL_FEATURES
) -> dict[str, float]:
    """5-fold ranking figures over `questions` (grouped by article), with rankers that never
    saw them. `features` restricts the ranker to a subset (for ablations): others are zeroed."""
    masked = _mask(ex, features)
    groups = [masked.group[q] for q in questions]
    ranks: list[NDArray[np.float64]] = []
    held_all: list[NDArray[np.int64]] = []
    for held in grouped_folds(groups, FOLDS):
        held_q = questions[held]
        train_q = np.setdiff1d(np.arange(len(masked.group)), held_q)
        w, b = fit(masked, train_q, l2)
        ranks.append(first_hit_ranks(masked, masked.x @ w + b, held_q))
        held_all.append(held_q)
    order = np.concatenate(held_all)
    return scores(np.concatenate(ranks), masked.answerable[order])


def _mask(ex: Examples, features: Sequence[str]) -> Examples:
    if tuple(features) == ALL_FEATURES:
        return ex
    keep = np.array([f in features for f in ALL_FEATURES])
    return Examples(
        ex.x * keep,
        ex.y,
        ex.question,
        ex.group,
        ex.answerable,
        ex.weight,
        ex.source,
    )


def train_final(ex: Examples, l2: float, meta: dict[str, Any], previous: Ranker) -> Ranker:
    """The ranker fitted on every question in `ex`. It keeps `previous`'s confidence model and
    threshold, which are fitted for a ranker's logits: refit them (`qa train-confidence`)."""
    w, b = fit(ex, np.arange(len(ex.group)), l2)
    kept = {k: v for k, v in (previous.meta or {}).items() if k in ("abstain_threshold",)}
    return Ranker(ALL_FEATURES, w, b, "trained", previous.calibrator, {**meta, **kept})


def save_ranker(ranker: Ranker, path: Path) -> None:
    import json

    path.write_text(json.dumps(ranker.to_json(), indent=2) + "\n", encoding="utf-8")
