"""`qa train-ranker`: learn the ranker and the confidence model from question sets.

Training data is SQuAD 2.0 (squad2-dev-half) and the gold set's dev part, never the gold test
part or XQuAD. Every question is asked against the whole corpus of its set; each candidate
sentence becomes a row of features labelled by whether it answers. Unanswerable questions
contribute only negatives, which is what teaches the models to abstain.

The ranker is a listwise (softmax) linear model over each question's candidates: it learns
to put the answering sentence first, which is what top-1 measures, rather than to classify rows
one by one. The confidence model is a logistic regression over the best candidate of each
question (its logit, its margin over the runner-up and a few of its features), fitted on
out-of-fold ranker logits so it learns how right the ranker is on questions it did not see.
Figures are reported from 5-fold cross-validation grouped by article.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from qa.datasets import EvalItem
from qa.engine import Engine
from qa.evaluate import is_hit
from qa.metrics import auroc, expected_calibration_error
from qa.ranker import (
    LOG_SENTENCES,
    MARGIN,
    NO_RUNNER_UP_MARGIN,
    TOP_LOGIT,
    Linear,
    Ranker,
    corpus_size_feature,
)
from qa.retrieve import ALL_FEATURES, FEATURES

if TYPE_CHECKING:
    from numpy.typing import NDArray

CALIBRATION_FEATURES = (
    TOP_LOGIT,
    MARGIN,
    LOG_SENTENCES,  # top-1 is surer in a small corpus: fewer near-misses to pick instead
    "best_coverage",
    "has_type",
    "type_match",
    "window_type_match",
    "coverage",
    "dense",
    "bm25",
    "para_dense",
)
L2 = 1e-3
FOLDS = 5
MAX_FALSE_ABSTENTION = 0.05  # the most answerable gold dev questions the threshold may refuse


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
    log_sentences: NDArray[np.float64]  # question number -> log of its corpus's sentence count


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
        log_sentences=np.full(len(items), corpus_size_feature(index.sentence_count)),
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
        log_sentences=np.concatenate([p.log_sentences for p in parts]),
    )


def _fit_logistic(
    x: NDArray[np.float64], y: NDArray[np.bool_], w: NDArray[np.float64], c: float
) -> tuple[NDArray[np.float64], float]:
    """Weights and bias of an L2 logistic regression, in the units of `x` (scaling undone)."""
    from sklearn.linear_model import LogisticRegression

    mean = x.mean(axis=0)
    scale = x.std(axis=0)
    scale[scale == 0] = 1.0
    model = LogisticRegression(C=c, max_iter=2000)
    model.fit((x - mean) / scale, y, sample_weight=w)
    coef = model.coef_[0] / scale
    bias = float(model.intercept_[0] - (coef * mean).sum())
    return coef, bias


@dataclass
class TopRows:
    """Per question: the best candidate under some ranker, and where the first hit ranks."""

    rank: NDArray[np.float64]  # 1-based rank of the first right candidate, inf if none
    calib: NDArray[np.float64]  # (questions, len(CALIBRATION_FEATURES))
    correct: NDArray[np.bool_]  # the best candidate is right


def top_rows(ex: Examples, logits: NDArray[np.float64], questions: NDArray[np.int64]) -> TopRows:
    """Rank and calibration features of each question in `questions` under `logits`."""
    col = {f: i for i, f in enumerate(ALL_FEATURES)}
    ranks = np.full(len(questions), np.inf)
    calib = np.zeros((len(questions), len(CALIBRATION_FEATURES)))
    correct = np.zeros(len(questions), dtype=bool)
    order = np.argsort(ex.question, kind="stable")
    starts = np.searchsorted(ex.question[order], questions, side="left")
    ends = np.searchsorted(ex.question[order], questions, side="right")
    for i, (a, b) in enumerate(zip(starts, ends, strict=True)):
        rows = order[a:b]
        if not len(rows):
            calib[i, 0] = -20.0
            continue
        ranked = rows[np.argsort(-logits[rows], kind="stable")]
        hits = np.flatnonzero(ex.y[ranked])
        if len(hits):
            ranks[i] = hits[0] + 1
        best = ranked[0]
        correct[i] = bool(ex.y[best])
        runner_up = logits[ranked[1]] if len(ranked) > 1 else None
        values = {
            LOG_SENTENCES: ex.log_sentences[questions[i]],
            TOP_LOGIT: logits[best],
            MARGIN: NO_RUNNER_UP_MARGIN if runner_up is None else logits[best] - runner_up,
            **{f: ex.x[best, col[f]] for f in FEATURES},
        }
        calib[i] = [values[f] for f in CALIBRATION_FEATURES]
    return TopRows(ranks, calib, correct)


def _folds(groups: Sequence[str], n: int) -> list[NDArray[np.int64]]:
    """Question numbers per fold, whole articles per fold, balanced by question count."""
    sizes: dict[str, int] = {}
    for g in groups:
        sizes[g] = sizes.get(g, 0) + 1
    loads = [0] * n
    fold_of: dict[str, int] = {}
    for g in sorted(sizes, key=lambda k: (-sizes[k], k)):
        target = loads.index(min(loads))
        fold_of[g] = target
        loads[target] += sizes[g]
    assignment = np.array([fold_of[g] for g in groups])
    return [np.flatnonzero(assignment == k) for k in range(n)]


def _rows_of(ex: Examples, questions: NDArray[np.int64]) -> NDArray[np.bool_]:
    return np.isin(ex.question, questions)


def _fit_listwise(
    x: NDArray[np.float64],
    y: NDArray[np.bool_],
    question: NDArray[np.int64],
    weight: NDArray[np.float64],
    l2: float,
) -> NDArray[np.float64]:
    """Weights maximising the softmax probability of the right candidates, per question.

    Only questions with a right candidate take part. Loss: -sum_q w_q log(sum_{right} p) with
    p the softmax of the scores over the question's candidates, plus an L2 penalty.
    """
    from scipy.optimize import minimize

    mean = x.mean(axis=0)
    scale = x.std(axis=0)
    scale[scale == 0] = 1.0
    has_hit = np.zeros(int(question.max()) + 1 if len(question) else 0, dtype=bool)
    has_hit[question[y]] = True
    keep = has_hit[question]
    z = (x[keep] - mean) / scale
    hit = y[keep].astype(np.float64)
    groups, inverse = np.unique(question[keep], return_inverse=True)
    qw = weight[groups]
    penalty = l2 * qw.sum()

    def loss(w: NDArray[np.float64]) -> tuple[float, NDArray[np.float64]]:
        score = z @ w
        top = np.full(len(groups), -np.inf)
        np.maximum.at(top, inverse, score)
        e = np.exp(score - top[inverse])
        total = np.bincount(inverse, e, len(groups))
        right = np.bincount(inverse, e * hit, len(groups))
        value = -(qw * (np.log(right + 1e-300) - np.log(total))).sum() + penalty * (w @ w)
        p_all = e / total[inverse]
        p_right = e * hit / np.maximum(right[inverse], 1e-300)
        grad = z.T @ (qw[inverse] * (p_all - p_right)) + 2 * penalty * w
        return float(value), grad

    result = minimize(loss, np.zeros(z.shape[1]), jac=True, method="L-BFGS-B")
    return np.asarray(result.x / scale, dtype=np.float64)


def fit(ex: Examples, questions: NDArray[np.int64], l2: float) -> tuple[NDArray[np.float64], float]:
    """Ranker weights fitted on the rows of `questions` (softmax scores need no bias)."""
    rows = _rows_of(ex, questions)
    w = _fit_listwise(ex.x[rows], ex.y[rows], ex.question[rows], ex.weight, l2)
    return w, 0.0


def out_of_fold_logits(
    ex: Examples, questions: NDArray[np.int64], folds: int, l2: float
) -> NDArray[np.float64]:
    """Ranker logits for every row of `questions`, each from a model that did not see it."""
    logits = np.zeros(len(ex.y))
    groups = [ex.group[q] for q in questions]
    for held in _folds(groups, folds):
        held_q = questions[held]
        train_q = np.setdiff1d(questions, held_q)
        w, b = fit(ex, train_q, l2)
        rows = _rows_of(ex, held_q)
        logits[rows] = ex.x[rows] @ w + b
    return logits


def fit_calibrator(top: TopRows, weight: NDArray[np.float64]) -> Linear:
    w, b = _fit_logistic(top.calib, top.correct, weight, c=1.0)
    return Linear(CALIBRATION_FEATURES, w, b)


def scores(
    top: TopRows, confidence: NDArray[np.float64], answerable: NDArray[np.bool_]
) -> dict[str, float]:
    """Ranking and confidence figures for held-out questions."""
    ans = answerable
    abstain = confidence < 0.5
    return {
        "questions": len(ans),
        "answerable": int(ans.sum()),
        "top1": float((top.rank[ans] <= 1).mean()) if ans.any() else float("nan"),
        "top5": float((top.rank[ans] <= 5).mean()) if ans.any() else float("nan"),
        "mrr": float(np.mean(1 / top.rank[ans])) if ans.any() else float("nan"),
        "confidence_auroc": auroc(confidence.tolist(), top.correct.tolist()),
        "confidence_ece": expected_calibration_error(confidence.tolist(), top.correct.tolist()),
        "false_abstention_rate": float(abstain[ans].mean()) if ans.any() else float("nan"),
        "abstention_recall": float(abstain[~ans].mean()) if (~ans).any() else float("nan"),
    }


def cross_validate(
    ex: Examples, questions: NDArray[np.int64], l2: float, features: Sequence[str] = ALL_FEATURES
) -> dict[str, float]:
    """5-fold figures over `questions` (grouped by article), with models that never saw them.

    `features` restricts the ranker to a subset (for ablations): other columns are zeroed.
    """
    masked = _mask(ex, features)
    groups = [masked.group[q] for q in questions]
    tops: list[TopRows] = []
    confidences: list[NDArray[np.float64]] = []
    held_all: list[NDArray[np.int64]] = []
    for held in _folds(groups, FOLDS):
        held_q = questions[held]
        train_q = np.setdiff1d(np.arange(len(masked.group)), held_q)
        w, b = fit(masked, train_q, l2)
        # The calibrator learns from ranker logits on questions that ranker did not see.
        inner = out_of_fold_logits(masked, train_q, FOLDS - 1, l2)
        calibrator = fit_calibrator(top_rows(masked, inner, train_q), masked.weight[train_q])
        logits = masked.x @ w + b
        top = top_rows(masked, logits, held_q)
        col = {f: i for i, f in enumerate(CALIBRATION_FEATURES)}
        conf = np.array(
            [
                1 / (1 + np.exp(-calibrator.logit({f: row[col[f]] for f in CALIBRATION_FEATURES})))
                for row in top.calib
            ]
        )
        tops.append(top)
        confidences.append(conf)
        held_all.append(held_q)
    order = np.concatenate(held_all)
    merged = TopRows(
        np.concatenate([t.rank for t in tops]),
        np.concatenate([t.calib for t in tops]),
        np.concatenate([t.correct for t in tops]),
    )
    return scores(merged, np.concatenate(confidences), masked.answerable[order])


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
        ex.log_sentences,
    )


def choose_threshold(
    confidence: NDArray[np.float64],
    correct: NDArray[np.bool_],
    answerable: NDArray[np.bool_],
    max_false_abstention: float = MAX_FALSE_ABSTENTION,
) -> float:
    """The abstention threshold that makes the most responses right on these questions, among
    those that abstain on at most `max_false_abstention` of the answerable ones.

    A response is right when it answers with the right sentence, or abstains on a question the
    articles cannot answer. Ties go to the threshold nearest 0.5. When no threshold keeps false
    abstention that low, the lowest one is returned.
    """
    if not len(confidence):
        return 0.5
    options = sorted({0.5, *np.round(confidence, 4).tolist()})
    options = [round(float(t), 4) for t in options]
    n_answerable = max(1, int(answerable.sum()))

    def right(t: float) -> int:
        answered = confidence >= t
        return int((answered & correct).sum() + (~answered & ~answerable).sum())

    def false_abstention(t: float) -> float:
        return float((answerable & (confidence < t)).sum()) / n_answerable

    allowed = [t for t in options if false_abstention(t) <= max_false_abstention]
    if not allowed:
        return float(options[0])
    return float(max(allowed, key=lambda t: (right(t), -abs(t - 0.5))))


def train_final(
    ex: Examples, l2: float, meta: dict[str, Any], calibration_weights: dict[str, float]
) -> Ranker:
    """The ranker and confidence model fitted on every question in `ex`.

    `calibration_weights` overrides a question's weight by its source for the confidence model,
    and the abstention threshold is chosen on the "gold-dev" questions.
    """
    everything = np.arange(len(ex.group))
    w, b = fit(ex, everything, l2)
    logits = out_of_fold_logits(ex, everything, FOLDS, l2)
    top = top_rows(ex, logits, everything)
    weights = np.array(
        [calibration_weights.get(src, wt) for src, wt in zip(ex.source, ex.weight, strict=True)]
    )
    calibrator = fit_calibrator(top, weights)
    confidence = np.array(
        [
            1 / (1 + np.exp(-calibrator.logit(dict(zip(CALIBRATION_FEATURES, row, strict=True)))))
            for row in top.calib
        ]
    )
    gold = np.array([src == "gold-dev" for src in ex.source])
    threshold = choose_threshold(confidence[gold], top.correct[gold], ex.answerable[gold])
    return Ranker(
        ALL_FEATURES, w, b, "trained", calibrator, {**meta, "abstain_threshold": threshold}
    )


def save_ranker(ranker: Ranker, path: Path) -> None:
    import json

    path.write_text(json.dumps(ranker.to_json(), indent=2) + "\n", encoding="utf-8")
