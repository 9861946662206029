from __future__ import annotations

import numpy as np
import pytest

from qa.ranker import Ranker
from qa.retrieve import ALL_FEATURES


def test_packaged_ranker_loads_and_uses_known_features() -> None:
    ranker = Ranker.load()
    assert set(ranker.features) <= set(ALL_FEATURES)
    assert 0 < ranker.abstain_threshold < 1
    values = dict.fromkeys(ALL_FEATURES, 0.5)
    assert 0 < ranker.answer_confidence(values, 1.0, 0.5, 100) < 1


def test_round_trip_json() -> None:
    ranker = Ranker(("dense", "bm25"), np.array([1.5, -2.0]), 0.25)
    again = Ranker.from_json(ranker.to_json())
    assert again.features == ranker.features and again.bias == 0.25
    assert np.allclose(again.weights, ranker.weights)


def test_mismatched_weights_are_refused() -> None:
    with pytest.raises(ValueError, match="2 features but 1 weights"):
        Ranker.from_json({"features": ["a", "b"], "weights": [1.0], "bias": 0})


def test_threshold_never_refuses_more_answerable_questions_than_allowed() -> None:
    import numpy as np

    from qa.train import choose_threshold

    # 20 answerable questions (2 of them wrongly answered, with low confidence) and 10
    # unanswerable ones whose confidence overlaps the answerable ones'.
    answerable_conf = np.array([0.2, 0.25] + [0.3 + 0.03 * i for i in range(18)])
    unanswerable_conf = np.array([0.1, 0.15, 0.22, 0.28, 0.31, 0.34, 0.37, 0.4, 0.45, 0.5])
    confidence = np.concatenate([answerable_conf, unanswerable_conf])
    answerable = np.array([True] * 20 + [False] * 10)
    correct = np.array([False, False] + [True] * 18 + [False] * 10)
    free = choose_threshold(confidence, correct, answerable, max_false_abstention=1.0)
    capped = choose_threshold(confidence, correct, answerable, max_false_abstention=0.05)
    refused = lambda t: float((answerable & (confidence < t)).sum()) / 20  # noqa: E731
    assert refused(free) > 0.05  # the unconstrained choice refuses too many ...
    assert refused(capped) <= 0.05  # ... the capped one does not
    assert capped < free
