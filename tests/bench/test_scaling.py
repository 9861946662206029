"""The scaling curve's synthetic vectors and its recall."""

from __future__ import annotations

import numpy as np

from qa.bench.scaling import Spectrum, recall_at_k


def test_synthetic_vectors_are_unit_length_and_recall_is_exact_on_truth() -> None:
    real = np.random.default_rng(0).standard_normal((20, 16)).astype(np.float32)
    drawn = Spectrum(real).draw(50, chunk=7)
    assert drawn.shape == (50, 16)
    assert np.allclose(np.linalg.norm(drawn, axis=1), 1.0, atol=1e-5)
    truth = np.arange(20).reshape(2, 10)
    assert recall_at_k(truth, truth) == 1.0
    assert recall_at_k(truth[:, ::-1], truth) == 1.0
    assert recall_at_k(truth + 5, truth) == 0.5
