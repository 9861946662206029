"""The confidence model and its threshold, on small hand-made tables (no model, milliseconds)."""

from __future__ import annotations

import numpy as np

from qa.answer.ranker import ConfidenceModel, Linear
from qa.evaluation.metrics import auroc
from qa.training.calibrate import (
    ANSWERABLE_FEATURES,
    RIGHT_FEATURES,
    TopTable,
    choose_threshold,
    fit_confidence,
)


def _table(rng: np.random.Generator, n: int = 400) -> TopTable:
    """Answerable questions have high `dense` (and are right when `coverage` is high too);
    off-topic ones have low `dense`; the other features are noise."""
    table = TopTable()
    for i in range(n):
        answerable = i % 3 != 0
        values = {f: float(rng.normal()) for f in ANSWERABLE_FEATURES}
        values["dense"] = float(rng.normal(1.0 if answerable else -1.0, 0.5))
        right = answerable and rng.random() < 0.8
        values["coverage"] = float(rng.normal(1.0 if right else -0.5, 0.5))
        table.values.append(values)
        table.correct.append(bool(right))
        table.kind.append("answerable" if answerable else "off-topic")
        table.group.append("a" if i % 2 else "b")
        table.size.append(1 if i % 4 < 2 else 16)
    return table


def test_fitted_confidence_separates_answers_from_off_topic_questions() -> None:
    table = _table(np.random.default_rng(0))
    model = fit_confidence(table)
    assert model.answerable.features == ANSWERABLE_FEATURES
    assert model.right.features == RIGHT_FEATURES
    confidence = [model.probability(v) for v in table.values]
    right = [c for c, ok in zip(confidence, table.correct, strict=True) if ok]
    off = [c for c, k in zip(confidence, table.kind, strict=True) if k == "off-topic"]
    assert auroc(right + off, [True] * len(right) + [False] * len(off)) > 0.95
    # The factored model keeps off-topic questions far below answerable ones.
    assert np.median(off) < 0.1 < np.median(right)


def test_threshold_on_p_answerable_refuses_at_most_the_allowed_share_of_every_set() -> None:
    table = _table(np.random.default_rng(1))
    model = fit_confidence(table)
    for allowed in (0.02, 0.05, 0.2):
        threshold = choose_threshold(model, table, allowed)
        for group in ("a", "b"):
            conf = [
                model.parts(v)[0]
                for v, k, g in zip(table.values, table.kind, table.group, strict=True)
                if k == "answerable" and g == group
            ]
            assert np.mean(np.array(conf) < threshold) <= allowed
    # A looser cap gives a higher threshold.
    assert choose_threshold(model, table, 0.02) <= choose_threshold(model, table, 0.2)


def test_confidence_is_the_product_of_its_two_parts() -> None:
    model = ConfidenceModel(
        Linear(("x",), np.array([1.0]), 0.0), Linear(("y",), np.array([2.0]), -1.0)
    )
    p = model.probability({"x": 0.0, "y": 0.5})
    assert abs(p - 0.5 * 0.5) < 1e-9
    assert model.features == ("x", "y")


def test_the_confidence_model_reads_registered_names_only() -> None:
    from qa.answer.features import ALL_FEATURES, QUESTION_FEATURES
    from qa.answer.ranker import MARGIN, TOP_LOGIT
    from qa.answer.reading import READER_VALUES

    known = {*ALL_FEATURES, *QUESTION_FEATURES, TOP_LOGIT, MARGIN, *READER_VALUES}
    assert set(ANSWERABLE_FEATURES) <= known
    assert len(set(ANSWERABLE_FEATURES)) == len(ANSWERABLE_FEATURES)
    assert set(RIGHT_FEATURES) == set(ANSWERABLE_FEATURES) - set(QUESTION_FEATURES)


def test_the_span_threshold_is_the_lowest_that_keeps_the_mean_f1() -> None:
    from qa.training.calibrate import TopTable, choose_span_threshold

    table = TopTable()
    # Sure spans are right, unsure ones wrong: mean F1 by threshold 1.0, 1.0, 0.67, 0.5.
    table.spans = [(-0.1, 1.0), (-0.5, 1.0), (-1.2, 0.0), (-3.0, 0.0)]
    assert choose_span_threshold(table, 0.65) == -1.2
    assert choose_span_threshold(table, 0.9) == -0.5
    # Nothing reaches the bar: above every span (none is marked).
    table.spans = [(-0.3, 0.2)]
    assert choose_span_threshold(table, 0.65) > -0.3
