"""What the trainers share: folds grouped by article, a listwise (softmax) linear ranker and a
logistic regression. Both standardise their inputs and return weights in the inputs' own units, so a
model is `x @ weights + bias` on raw feature values."""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING

import numpy as np

if TYPE_CHECKING:
    from numpy.typing import NDArray


def _standardise(
    x: NDArray[np.float64],
) -> tuple[NDArray[np.float64], NDArray[np.float64]]:
    mean = x.mean(axis=0)
    scale = x.std(axis=0)
    scale[scale == 0] = 1.0
    return mean, scale


def fit_listwise(
    x: NDArray[np.float64],
    right: NDArray[np.bool_],
    question: NDArray[np.int64],
    l2: float,
    weight: NDArray[np.float64] | None = None,
) -> NDArray[np.float64]:
    """Weights maximising, per question, the softmax probability of its right candidates.

    The rows of a question must be contiguous. Only questions with a right candidate take part.
    Loss: -sum_q w_q log(sum_{right} p) with p the softmax of the scores over the question's
    candidates, plus `l2` x (total question weight) x |w|^2. `weight` is indexed by question
    number (default: 1 each). Softmax scores need no bias.
    """
    from scipy.optimize import minimize

    mean, scale = _standardise(x)
    has_right = np.zeros(int(question.max()) + 1 if len(question) else 0, dtype=bool)
    has_right[question[right]] = True
    keep = has_right[question]
    z = (x[keep] - mean) / scale
    hit = right[keep].astype(np.float64)
    q = question[keep]
    starts = np.flatnonzero(np.r_[True, q[1:] != q[:-1]]) if len(q) else np.zeros(0, np.int64)
    sizes = np.diff(np.r_[starts, len(q)])
    qw = np.ones(len(starts)) if weight is None else weight[q[starts]]
    row_weight = np.repeat(qw, sizes)
    penalty = l2 * qw.sum()

    def loss(w: NDArray[np.float64]) -> tuple[float, NDArray[np.float64]]:
        if not len(q):
            return float(penalty * (w @ w)), 2 * penalty * w
        score = z @ w
        e = np.exp(score - np.repeat(np.maximum.reduceat(score, starts), sizes))
        total = np.add.reduceat(e, starts)
        good = np.add.reduceat(e * hit, starts)
        value = -(qw * (np.log(good + 1e-300) - np.log(total))).sum() + penalty * (w @ w)
        share = e / np.repeat(total, sizes) - e * hit / np.repeat(np.maximum(good, 1e-300), sizes)
        return float(value), z.T @ (row_weight * share) + 2 * penalty * w

    result = minimize(loss, np.zeros(z.shape[1]), jac=True, method="L-BFGS-B")
    return np.asarray(result.x / scale, dtype=np.float64)


def fit_logistic(
    x: NDArray[np.float64],
    y: NDArray[np.bool_],
    weight: NDArray[np.float64] | None = None,
    c: float = 1.0,
) -> tuple[NDArray[np.float64], float]:
    """An L2 logistic regression (inverse strength `c`): its weights and bias. With one class
    only (tiny sets) the probability is that class's rate, kept within 0.01-0.99."""
    from sklearn.linear_model import LogisticRegression

    if y.all() or not y.any():
        rate = min(max(float(y.mean()) if len(y) else 0.5, 0.01), 0.99)
        return np.zeros(x.shape[1]), float(np.log(rate / (1 - rate)))
    mean, scale = _standardise(x)
    model = LogisticRegression(C=c, max_iter=5000)
    model.fit((x - mean) / scale, y, sample_weight=weight)
    coef = np.asarray(model.coef_[0] / scale, dtype=np.float64)
    return coef, float(model.intercept_[0] - (coef * mean).sum())


def grouped_folds(groups: Sequence[str], n: int) -> list[NDArray[np.int64]]:
    """Question numbers per fold, whole groups (articles) per fold, balanced by question count."""
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
