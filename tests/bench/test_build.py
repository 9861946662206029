"""The large build corpus: perturbed copies of real articles."""

from __future__ import annotations

from qa.bench.build import perturbed_copy


def test_perturbed_copies_differ_but_keep_shape() -> None:
    text = "Founded in 1901.\n\nSecond paragraph, 42 words.\n\nThird."
    assert perturbed_copy(text, 0) == text
    copy = perturbed_copy(text, 1)
    assert copy != text and sorted(copy) != sorted(text)
    assert copy.startswith("Second paragraph, 53 words.")
    assert len(copy) == len(text)
