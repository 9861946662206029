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
