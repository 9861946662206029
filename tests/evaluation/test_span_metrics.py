"""SQuAD's exact match and token F1, with the official normalisation."""

from __future__ import annotations

import pytest

from qa.evaluation.span_metrics import exact_match, normalize_answer, token_f1


@pytest.mark.parametrize(
    ("text", "normal"),
    [
        ("The Eiffel Tower.", "eiffel tower"),
        ("  An   apple,  a day! ", "apple day"),
        ("Theatre anthem", "theatre anthem"),  # articles only as whole words
        ("U.S.-based", "usbased"),  # punctuation goes, it splits nothing
        ("A", ""),
    ],
)
def test_normalisation_is_squads(text: str, normal: str) -> None:
    assert normalize_answer(text) == normal


def test_exact_match_against_any_gold_answer() -> None:
    assert exact_match("the Eiffel Tower.", ["Paris", "Eiffel tower"])
    assert not exact_match("Eiffel", ["Eiffel Tower"])
    assert not exact_match("Paris", [])


@pytest.mark.parametrize(
    ("prediction", "gold", "f1"),
    [
        ("Denver Broncos", ["Denver Broncos"], 1.0),
        ("the Denver Broncos team", ["Denver Broncos"], 0.8),  # p = 2/3, r = 1
        ("1,300 schools", ["1,300"], 2 / 3),
        ("Broncos Broncos", ["Broncos"], 2 / 3),  # a token matches as often as in both
        ("Broncos Broncos", ["Broncos Broncos win"], 0.8),
        ("Paris", ["London", "Paris"], 1.0),  # the best gold answer counts
        ("Paris Texas", ["Paris Texas", "Paris France"], 1.0),
        ("Carolina Panthers", ["Denver Broncos"], 0.0),
        ("a", ["the"], 1.0),  # both normalise to nothing
        ("a", ["Paris"], 0.0),
        ("Paris", [], 0.0),
    ],
)
def test_token_f1(prediction: str, gold: list[str], f1: float) -> None:
    assert token_f1(prediction, gold) == pytest.approx(f1)
