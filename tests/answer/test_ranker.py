from __future__ import annotations

import numpy as np
import pytest

from qa.answer.features import ALL_FEATURES, QUESTION_FEATURES
from qa.answer.ranker import MARGIN, TOP_LOGIT, Ranker
from qa.answer.reading import READER_VALUES


def test_packaged_ranker_loads_and_uses_known_features() -> None:
    ranker = Ranker.load()
    assert set(ranker.features) <= set(ALL_FEATURES)
    assert 0 < ranker.abstain_threshold < 1
    assert ranker.calibrator is not None
    values = dict.fromkeys((*ALL_FEATURES, *QUESTION_FEATURES), 0.5)
    assert 0 < ranker.answer_probabilities(values, 1.0, 0.5)[0] < 1
    # Nothing the confidence model reads counts the corpus: it must mean the same at any size.
    known = {*ALL_FEATURES, *QUESTION_FEATURES, TOP_LOGIT, MARGIN, *READER_VALUES}
    assert set(ranker.calibrator.features) <= known


def test_old_single_model_confidence_is_refused_with_a_clear_message() -> None:
    data = Ranker.load().to_json()
    data["confidence"] = {"features": ["top_logit"], "weights": [1.0], "bias": 0.0}
    with pytest.raises(ValueError, match="qa train-confidence"):
        Ranker.from_json(data)


def test_round_trip_json() -> None:
    ranker = Ranker(("dense", "bm25"), np.array([1.5, -2.0]), 0.25)
    again = Ranker.from_json(ranker.to_json())
    assert again.features == ranker.features and again.bias == 0.25
    assert np.allclose(again.weights, ranker.weights)


def test_mismatched_weights_are_refused() -> None:
    with pytest.raises(ValueError, match="2 features but 1 weights"):
        Ranker.from_json({"features": ["a", "b"], "weights": [1.0], "bias": 0})
