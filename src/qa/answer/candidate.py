"""A candidate answer: one sentence of the index, as the ranking stages see it."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from qa.answer.reader import ReadCandidate


@dataclass(frozen=True, slots=True)
class Candidate:
    """A sentence (global row in the index), its features (`ALL_FEATURES` order), its score
    (the ranker's logit, or the reader stage's combined score) and, when the reader read it,
    the reading."""

    row: int
    features: tuple[float, ...]
    score: float
    reading: ReadCandidate | None = None
