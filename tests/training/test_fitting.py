"""The trainers' shared fitting: grouped folds, a listwise ranker and a logistic regression."""

from __future__ import annotations

import numpy as np
import pytest

from qa.training.fitting import fit_listwise, fit_logistic, grouped_folds


def separable(n: int = 200, seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    """Rows labelled by feature 0 (around 1000, spread 100) above 1000; feature 1 is noise."""
    rng = np.random.default_rng(seed)
    x = rng.normal(size=(n, 2)) * np.array([100.0, 50.0]) + np.array([1000.0, 100.0])
    return x, x[:, 0] > 1000


def test_logistic_recovers_the_separating_feature_in_raw_units() -> None:
    x, y = separable()
    weights, bias = fit_logistic(x, y)
    assert weights[0] > 0 and abs(weights[0]) > 10 * abs(weights[1])
    probability = 1 / (1 + np.exp(-(x @ weights + bias)))
    assert ((probability > 0.5) == y).mean() > 0.95  # the model applies to raw values


def test_logistic_probabilities_do_not_depend_on_the_units() -> None:
    x, y = separable()
    y[::7] = ~y[::7]  # not separable: probabilities stay between 0 and 1
    units = np.array([0.01, 3.0])
    weights, bias = fit_logistic(x, y)
    scaled_weights, scaled_bias = fit_logistic(x * units + 5.0, y)
    assert x @ weights + bias == pytest.approx((x * units + 5.0) @ scaled_weights + scaled_bias)


def test_a_constant_feature_gets_no_weight() -> None:
    x, y = separable()
    x[:, 1] = 3.0
    weights, bias = fit_logistic(x, y)
    x_list, right, question = listwise_data()
    x_list[:, 1] = 3.0
    listwise = fit_listwise(x_list, right, question, l2=1e-3)
    assert np.isfinite([*weights, bias, *listwise]).all()
    assert weights[1] == 0 and listwise[1] == 0


def test_logistic_follows_a_negative_weight_too() -> None:
    x, y = separable()
    weights, _ = fit_logistic(x, ~y)
    assert weights[0] < 0


def test_logistic_with_one_class_is_its_rate_within_bounds() -> None:
    x = np.ones((4, 3))
    weights, bias = fit_logistic(x, np.ones(4, dtype=bool))
    assert weights.tolist() == [0.0, 0.0, 0.0]
    assert 1 / (1 + np.exp(-bias)) == pytest.approx(0.99)
    _, bias = fit_logistic(x, np.zeros(4, dtype=bool))
    assert 1 / (1 + np.exp(-bias)) == pytest.approx(0.01)


def test_logistic_sample_weights_count() -> None:
    x = np.array([[0.0], [0.0], [1.0], [1.0]])
    y = np.array([False, True, False, True])
    flat, _ = fit_logistic(x, y)
    tilted, _ = fit_logistic(x, y, weight=np.array([1.0, 1.0, 5.0, 1.0]))
    assert abs(flat[0]) < 1e-6 and tilted[0] < -0.1


def listwise_data(seed: int = 0) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Five candidates per question; the right one has the largest feature 0."""
    rng = np.random.default_rng(seed)
    x = rng.normal(size=(100, 2))
    question = np.repeat(np.arange(20), 5)
    right = np.zeros(100, dtype=bool)
    for q in range(20):
        rows = np.flatnonzero(question == q)
        right[rows[np.argmax(x[rows, 0])]] = True
    return x, right, question


def test_listwise_ranks_the_right_candidates_first() -> None:
    x, right, question = listwise_data()
    weights = fit_listwise(x, right, question, l2=1e-3)
    assert weights[0] > 0 and abs(weights[0]) > abs(weights[1])
    best = [np.flatnonzero(question == q)[np.argmax(x[question == q] @ weights)] for q in range(20)]
    assert right[best].all()


def test_listwise_learns_nothing_from_questions_without_a_right_candidate() -> None:
    x, right, question = listwise_data()
    assert fit_listwise(x, np.zeros_like(right), question, l2=1e-3).tolist() == [0.0, 0.0]
    # Questions where feature 1 is all that differs, none right: they must not pull weight 1.
    wrong_x = np.column_stack([np.zeros(50), np.arange(50.0)])
    more_x = np.vstack([x, wrong_x])
    more_right = np.r_[right, np.zeros(50, dtype=bool)]
    more_question = np.r_[question, np.repeat(np.arange(20, 30), 5)]
    weights = fit_listwise(more_x, more_right, more_question, l2=1e-3)
    best = [np.flatnonzero(question == q)[np.argmax(x[question == q] @ weights)] for q in range(20)]
    assert weights[0] > 0 and right[best].all()


def test_listwise_l2_shrinks_toward_zero() -> None:
    x, right, question = listwise_data()
    weak = fit_listwise(x, right, question, l2=1e-3)
    strong = fit_listwise(x, right, question, l2=10.0)
    assert 0 < strong[0] < weak[0]


def test_listwise_question_weights_decide_between_conflicting_questions() -> None:
    x, right, question = listwise_data()
    # Twenty more questions where the right candidate has the smallest feature 0.
    flipped = np.zeros(100, dtype=bool)
    for q in range(20):
        rows = np.flatnonzero(question == q)
        flipped[rows[np.argmin(x[rows, 0])]] = True
    both_x = np.vstack([x, x])
    both_right = np.r_[right, flipped]
    both_question = np.r_[question, question + 20]
    first = np.r_[np.full(20, 5.0), np.ones(20)]
    assert fit_listwise(both_x, both_right, both_question, l2=1e-3, weight=first)[0] > 0
    assert fit_listwise(both_x, both_right, both_question, l2=1e-3, weight=first[::-1])[0] < 0


def test_listwise_scaling_every_question_weight_changes_nothing() -> None:
    # The penalty grows with the total question weight, so only relative weights matter.
    x, right, question = listwise_data()
    plain = fit_listwise(x, right, question, l2=0.1)
    scaled = fit_listwise(x, right, question, l2=0.1, weight=np.full(20, 5.0))
    assert scaled == pytest.approx(plain, rel=1e-3)


def test_folds_keep_groups_whole_cover_every_question_and_balance() -> None:
    groups = [f"a{i % 7}" for i in range(60)] + ["big"] * 12
    folds = grouped_folds(groups, 4)
    together = np.sort(np.concatenate(folds))
    assert together.tolist() == list(range(len(groups)))
    fold_of_group: dict[str, set[int]] = {}
    for k, fold in enumerate(folds):
        for i in fold:
            fold_of_group.setdefault(groups[i], set()).add(k)
    assert all(len(ks) == 1 for ks in fold_of_group.values())
    sizes = [len(f) for f in folds]
    assert max(sizes) - min(sizes) <= 12


def test_folds_are_deterministic_whatever_the_group_order() -> None:
    groups = ["b", "a", "c", "a", "b", "d", "a", "c"]
    first = grouped_folds(groups, 3)
    assert [f.tolist() for f in first] == [f.tolist() for f in grouped_folds(groups, 3)]

    def fold_of(groups: list[str]) -> dict[str, int]:
        return {groups[i]: k for k, fold in enumerate(grouped_folds(groups, 3)) for i in fold}

    # Largest group first, each to the lightest fold; ties by name.
    assert fold_of(groups) == fold_of(sorted(groups)) == {"a": 0, "b": 1, "c": 2, "d": 1}
