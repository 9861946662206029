"""The gate's metrics on examples small enough to compute by hand."""

from __future__ import annotations

import math

import pytest

from qa.evaluation.metrics import Outcome, auroc, expected_calibration_error, summarize


def outcome(
    rank: int | None,
    *,
    answerable: bool = True,
    answered: bool = True,
    confidence: float = 0.5,
    top_correct: bool = False,
    tags: tuple[str, ...] = (),
) -> Outcome:
    return Outcome(
        id="q",
        question="q?",
        answerable=answerable,
        split="all",
        tags=tags,
        rank=rank,
        answered=answered,
        answer="a" if answered else None,
        answer_correct=answered and rank == 1,
        top_correct=top_correct,
        short_answer_ok=None,
        confidence=confidence,
        citations=1,
        citations_valid=1,
        latency_ms=1.0,
    )


def test_auroc_is_the_share_of_positive_negative_pairs_ordered_right() -> None:
    # Pairs (positive, negative): (0.35, 0.1) yes, (0.35, 0.4) no, (0.8, 0.1) yes, (0.8, 0.4) yes.
    assert auroc([0.1, 0.4, 0.35, 0.8], [False, False, True, True]) == pytest.approx(0.75)
    assert auroc([0.9, 0.8, 0.1], [True, True, False]) == 1.0
    assert auroc([0.1, 0.8, 0.9], [True, True, False]) == 0.0


def test_auroc_counts_a_tie_as_half_a_pair() -> None:
    # Positives 0.5, 0.9; negatives 0.5, 0.2: pairs 0.5 (tie), 1, 1, 1 -> 3.5 / 4.
    assert auroc([0.5, 0.5, 0.2, 0.9], [True, False, False, True]) == pytest.approx(0.875)
    assert auroc([0.3, 0.3, 0.3, 0.3], [True, False, True, False]) == pytest.approx(0.5)
    # Three tied at 0.4 (one positive, two negatives) between a lower negative and a higher
    # positive: pairs (0.4+, 0.4-) x2 = 1, (0.4+, 0.1) = 1, (0.9, each of 3 negatives) = 3.
    scores = [0.1, 0.4, 0.4, 0.4, 0.9]
    labels = [False, True, False, False, True]
    assert auroc(scores, labels) == pytest.approx(5 / 6)


def test_auroc_of_one_class_is_undefined() -> None:
    assert math.isnan(auroc([0.2, 0.7], [True, True]))
    assert math.isnan(auroc([], []))


def test_ece_weights_each_bins_gap_by_its_size() -> None:
    # Bin [0.1, 0.2): confidences 0.1, 0.15 (mean 0.125), accuracy 1/2 -> gap 0.375, 2 items.
    # Bin [0.9, 1.0]: confidences 0.9, 0.95 (mean 0.925), accuracy 1 -> gap 0.075, 2 items.
    got = expected_calibration_error([0.1, 0.15, 0.9, 0.95], [False, True, True, True])
    assert got == pytest.approx((2 * 0.375 + 2 * 0.075) / 4)


def test_ece_puts_a_confidence_of_one_in_the_last_bin_and_is_zero_when_calibrated() -> None:
    assert expected_calibration_error([1.0, 1.0], [True, True]) == 0.0
    # One bin: mean confidence 0.975, accuracy 1/2; then mean confidence 1, accuracy 1/2.
    assert expected_calibration_error([1.0, 0.95], [True, False]) == pytest.approx(0.475)
    assert expected_calibration_error([1.0, 1.0], [True, False]) == pytest.approx(0.5)
    assert expected_calibration_error([0.5, 0.5], [True, False]) == 0.0
    assert expected_calibration_error([0.25], [True], bins=2) == pytest.approx(0.75)
    assert math.isnan(expected_calibration_error([], []))


def test_recall_at_k_and_mrr_count_answerable_questions_only() -> None:
    outcomes = [
        outcome(1),
        outcome(3),
        outcome(5),
        outcome(None),  # the right sentence is not among the candidates
        outcome(6),
        outcome(None, answerable=False, answered=False),
        outcome(1, answerable=False, answered=True),  # never counted in recall or MRR
    ]
    got = summarize(outcomes)
    assert (got["questions"], got["answerable"], got["unanswerable"]) == (7, 5, 2)
    assert got["recall_at_1"] == pytest.approx(1 / 5)
    assert got["recall_at_3"] == pytest.approx(2 / 5)
    assert got["recall_at_5"] == pytest.approx(3 / 5)
    assert got["mrr"] == pytest.approx((1 + 1 / 3 + 1 / 5 + 0 + 1 / 6) / 5)


def test_abstention_figures() -> None:
    outcomes = [
        outcome(1),
        outcome(2, answered=False),  # a false abstention
        outcome(None, answerable=False, answered=False, tags=("off-topic",)),
        outcome(None, answerable=False, answered=True, tags=("near-topic",)),
        outcome(None, answerable=False, answered=False, tags=("near-topic",)),
    ]
    got = summarize(outcomes)
    # 2 right abstentions of 3 abstentions; 2 of the 3 unanswerable questions abstained.
    assert got["abstention_precision"] == pytest.approx(2 / 3)
    assert got["abstention_recall"] == pytest.approx(2 / 3)
    assert got["abstention_f1"] == pytest.approx(2 / 3)
    assert got["false_abstention_rate"] == pytest.approx(1 / 2)
    assert got["answer_accuracy"] == pytest.approx(1 / 2)
    assert got["abstention_recall_off_topic"] == 1.0
    assert got["abstention_recall_near_topic"] == pytest.approx(1 / 2)


def test_confidence_metrics_score_the_top_candidate() -> None:
    outcomes = [
        outcome(1, confidence=0.9, top_correct=True),
        outcome(3, confidence=0.2, top_correct=False),
        outcome(1, confidence=0.3, top_correct=True),
        outcome(None, answerable=False, answered=False, confidence=0.1),
    ]
    got = summarize(outcomes)
    # Positives 0.9, 0.3; negatives 0.2, 0.1: every pair ordered right.
    assert got["confidence_auroc"] == 1.0
    # Bins: 0.9 (acc 1) -> 0.1; 0.2 (acc 0) -> 0.2; 0.3 (acc 1) -> 0.7; 0.1 (acc 0) -> 0.1.
    assert got["confidence_ece"] == pytest.approx((0.1 + 0.2 + 0.7 + 0.1) / 4)
