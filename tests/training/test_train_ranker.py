"""Ranker training on a tiny synthetic set, with fakes: candidates of every question, labelled by
the scorer's rule, where one feature alone tells the right sentence from the others.

The fitted weights must rank it first, in and out of cross-validation; the same fit on shuffled
labels, or without that feature, must not (so the first assertions can fail).
"""

from __future__ import annotations

from dataclasses import dataclass
from types import SimpleNamespace
from typing import Any

import numpy as np
import pytest

from qa.answer.ranker import Ranker
from qa.answer.retrieval import ALL_FEATURES
from qa.evaluation.datasets import EvalItem
from qa.training.train_ranker import (
    Examples,
    collect,
    cross_validate,
    first_hit_ranks,
    fit,
    merge,
    train_final,
)

SIGNAL = 0  # the column that gives the right candidate away
NOISE = [1, 2, 3, 4]  # columns of noise; the others are 0
QUESTIONS = 20
CANDIDATES = 6
L2 = 1e-3


@dataclass(frozen=True)
class _Span:
    start: int
    end: int


class _Index:
    """Sentence `row` of the fake index is characters 10 * row to 10 * row + 9 of one article."""

    def span(self, row: int) -> tuple[Any, _Span, int]:
        return SimpleNamespace(doc_id=f"doc{row // CANDIDATES}"), _Span(10 * row, 10 * row + 9), 0


class _Retriever:
    def __init__(self, candidates: dict[str, list[Any]]) -> None:
        self.candidates = candidates

    def retrieve(self, question: str) -> list[Any]:
        return self.candidates[question]


def _tiny_set(seed: int = 0) -> tuple[list[EvalItem], Any]:
    """Questions with one right candidate each, at a random place among its candidates; an
    engine whose retriever returns them. Question q asks about article q // 2."""
    rng = np.random.default_rng(seed)
    items, candidates = [], {}
    for q in range(QUESTIONS):
        article = q // 2
        rows = article * CANDIDATES + rng.permutation(CANDIDATES)
        right = int(rows[rng.integers(CANDIDATES)])
        found = []
        for row in rows:
            features = np.zeros(len(ALL_FEATURES))
            features[NOISE] = rng.standard_normal(len(NOISE))
            features[SIGNAL] = 3.0 + rng.random() if row == right else rng.uniform(-1, 1)
            found.append(SimpleNamespace(row=int(row), features=tuple(features), score=0.0))
        question = f"question {q}?"
        candidates[question] = found
        items.append(
            EvalItem(
                id=f"q{q}",
                question=question,
                answerable=True,
                doc_id=f"doc{article}",
                spans=((10 * right + 2, 10 * right + 5),),
            )
        )
    retriever = _Retriever(candidates)
    engine = SimpleNamespace(
        index=_Index(), state=SimpleNamespace(answerer=SimpleNamespace(retriever=retriever))
    )
    return items, engine


@pytest.fixture(scope="module")
def examples() -> Examples:
    items, engine = _tiny_set()
    return collect(items, engine, "tiny")


def _shuffled(ex: Examples, seed: int = 1) -> Examples:
    """The same rows with each question's one right label moved to a random candidate."""
    rng = np.random.default_rng(seed)
    y = np.zeros_like(ex.y)
    for q in range(len(ex.group)):
        rows = np.flatnonzero(ex.question == q)
        y[rng.choice(rows)] = True
    return Examples(ex.x, y, ex.question, ex.group, ex.answerable, ex.weight, ex.source)


def test_collect_labels_each_candidate_by_whether_it_answers(examples: Examples) -> None:
    assert examples.x.shape == (QUESTIONS * CANDIDATES, len(ALL_FEATURES))
    assert np.bincount(examples.question).tolist() == [CANDIDATES] * QUESTIONS
    for q in range(QUESTIONS):
        rows = examples.question == q
        # The one right candidate is the one the signal gives away.
        assert examples.y[rows].sum() == 1
        assert examples.x[rows][examples.y[rows], SIGNAL] > examples.x[rows][:, SIGNAL].max() - 1e-9
    assert examples.group == [f"doc{q // 2}" for q in range(QUESTIONS)]


def test_fitted_weights_rank_the_right_candidate_first(examples: Examples) -> None:
    everyone = np.arange(QUESTIONS)
    w, bias = fit(examples, everyone, L2)
    assert w[SIGNAL] > 0
    assert first_hit_ranks(examples, examples.x @ w + bias, everyone).tolist() == [1.0] * QUESTIONS
    previous = Ranker(
        ALL_FEATURES, np.zeros(len(ALL_FEATURES)), 0.0, meta={"abstain_threshold": 0.3}
    )
    ranker = train_final(examples, L2, {"l2": L2}, previous)
    assert ranker.features == ALL_FEATURES and ranker.meta == {"l2": L2, "abstain_threshold": 0.3}
    for q in range(QUESTIONS):
        rows = examples.question == q
        assert examples.y[rows][np.argmax(ranker.logits(examples.x[rows]))]


def test_cross_validated_ranker_needs_the_labels_and_the_feature(examples: Examples) -> None:
    questions = np.arange(QUESTIONS)
    learnt = cross_validate(examples, questions, L2)
    assert learnt["answerable"] == QUESTIONS and learnt["top1"] == 1.0 and learnt["mrr"] == 1.0
    # Shuffled labels teach nothing that holds on held-out articles: about chance (1 in 6).
    assert cross_validate(_shuffled(examples), questions, L2)["top1"] < 0.5
    # Without the one telling feature (an ablation), neither.
    others = tuple(f for i, f in enumerate(ALL_FEATURES) if i != SIGNAL)
    assert cross_validate(examples, questions, L2, others)["top1"] < 0.5


def test_merge_keeps_question_numbers_apart(examples: Examples) -> None:
    items, engine = _tiny_set(seed=2)
    other = collect(items[:3], engine, "other", weight=5.0)
    merged = merge([examples, other])
    assert len(merged.group) == QUESTIONS + 3 and merged.source[-1] == "other"
    assert merged.question[-1] == QUESTIONS + 2 and merged.weight[-1] == 5.0
    assert np.array_equal(merged.y[len(examples.y) :], other.y)
