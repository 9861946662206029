"""SQuAD's answer scores: exact match and token F1 after the official normalisation.

Normalisation (as in the SQuAD v1.1/v2.0 evaluation script): lower case, punctuation removed,
the articles "a", "an", "the" removed, whitespace collapsed.
"""

from __future__ import annotations

import re
import string
from collections import Counter
from collections.abc import Iterable

_ARTICLES = re.compile(r"\b(a|an|the)\b")
_PUNCTUATION = frozenset(string.punctuation)


def normalize_answer(text: str) -> str:
    """Lower case, no punctuation, no articles, single spaces (SQuAD's normalisation)."""
    text = "".join(ch for ch in text.lower() if ch not in _PUNCTUATION)
    return " ".join(_ARTICLES.sub(" ", text).split())


def exact_match(prediction: str, gold: Iterable[str]) -> bool:
    """Does the prediction equal one of the gold answers once both are normalised?"""
    pred = normalize_answer(prediction)
    return any(pred == normalize_answer(g) for g in gold)


def token_f1(prediction: str, gold: Iterable[str]) -> float:
    """The best token-overlap F1 of the prediction against any gold answer (0 without gold)."""
    pred = normalize_answer(prediction).split()
    best = 0.0
    for answer in gold:
        truth = normalize_answer(answer).split()
        if not pred or not truth:
            best = max(best, float(pred == truth))
            continue
        common = sum((Counter(pred) & Counter(truth)).values())
        if common:
            precision, recall = common / len(pred), common / len(truth)
            best = max(best, 2 * precision * recall / (precision + recall))
    return best
