"""The short answer inside a cited sentence: a learned scorer over candidate spans.

A "who" question is answered by a name in the sentence, "when" by a date, "how many" by a number
with its noun; other questions by a noun phrase. Candidates are cut from the sentence by rules
(`qa.answer.span_candidates`); a linear model trained on SQuAD-format answers (`qa train-spans`)
scores their features (`qa.answer.span_features`), and a second, logistic model says how likely the
best one is right. A span is given only when that probability clears the threshold stored with the
weights, and never for questions that want a whole sentence ("why", "how").
"""

from __future__ import annotations

import json
import math
from dataclasses import dataclass, field
from functools import lru_cache
from importlib import resources
from pathlib import Path
from typing import TYPE_CHECKING, Any, NamedTuple

import numpy as np

from qa.answer.span_features import (
    CALIBRATION_FEATURES,
    FEATURES,
    Scored,
    calibration_values,
    featurize,
)
from qa.answer.span_tokens import QuestionInfo, question_info

if TYPE_CHECKING:
    from numpy.typing import NDArray

DEFAULT_SCORER = "spans.json"


class ShortAnswer(NamedTuple):
    """A short answer: `sentence[start:end] == text`, right with probability `probability`."""

    start: int
    end: int
    text: str
    probability: float


@dataclass(frozen=True)
class SpanScorer:
    """The candidate scorer (`features @ weights`), its calibration and the threshold."""

    weights: NDArray[np.float64]
    calibration_weights: NDArray[np.float64]
    calibration_bias: float
    threshold: float
    meta: dict[str, Any] = field(default_factory=dict)

    def score(self, sentence: str, question: str | QuestionInfo) -> Scored:
        scored = featurize(sentence, question)
        scored.logits = scored.x @ self.weights
        return scored

    def probability(self, scored: Scored, best: int) -> float:
        values = calibration_values(scored, best)
        x = np.array([values[f] for f in CALIBRATION_FEATURES])
        z = float(x @ self.calibration_weights + self.calibration_bias)
        return 1.0 / (1.0 + math.exp(-max(-50.0, min(50.0, z))))

    def best(self, sentence: str, question: str) -> ShortAnswer | None:
        """The best candidate and its probability of being right, whatever the threshold."""
        q = question_info(question)
        if q.wants_sentence:
            return None
        scored = self.score(sentence, q)
        if not scored.candidates:
            return None
        top = int(np.argmax(scored.logits))
        cand = scored.candidates[top]
        return ShortAnswer(cand.start, cand.end, cand.text, self.probability(scored, top))

    def span(self, sentence: str, question: str) -> ShortAnswer | None:
        """The best candidate when it is likely right (probability >= threshold), else None."""
        got = self.best(sentence, question)
        return got if got is not None and got.probability >= self.threshold else None

    def to_json(self) -> dict[str, Any]:
        return {
            "features": list(FEATURES),
            "weights": [round(float(w), 6) for w in self.weights],
            "calibration": {
                "features": list(CALIBRATION_FEATURES),
                "weights": [round(float(w), 6) for w in self.calibration_weights],
                "bias": round(self.calibration_bias, 6),
            },
            "threshold": round(self.threshold, 4),
            "meta": self.meta,
        }

    @classmethod
    def from_json(cls, data: dict[str, Any], source: str) -> SpanScorer:
        """Read a scorer, refusing one whose feature names differ from this code's."""
        try:
            calibration = data["calibration"]
            _check_names(source, "features", data["features"], FEATURES, data["weights"])
            _check_names(
                source,
                "calibration features",
                calibration["features"],
                CALIBRATION_FEATURES,
                calibration["weights"],
            )
            return cls(
                np.asarray(data["weights"], dtype=np.float64),
                np.asarray(calibration["weights"], dtype=np.float64),
                float(calibration["bias"]),
                float(data["threshold"]),
                dict(data.get("meta", {})),
            )
        except (KeyError, TypeError) as err:
            raise ValueError(f"span scorer {source}: missing or malformed {err}") from None

    @classmethod
    def load(cls, path: Path | None = None) -> SpanScorer:
        if path is None:
            text = resources.files("qa.answer").joinpath(DEFAULT_SCORER).read_text(encoding="utf-8")
            return cls.from_json(json.loads(text), DEFAULT_SCORER)
        return cls.from_json(json.loads(path.read_text(encoding="utf-8")), str(path))


def _check_names(
    source: str, what: str, names: list[str], expected: tuple[str, ...], weights: list[float]
) -> None:
    if tuple(names) != expected:
        missing = sorted(set(expected) - set(names))
        extra = sorted(set(names) - set(expected))
        raise ValueError(
            f"span scorer {source}: its {what} do not match the code "
            f"(missing {missing}, extra {extra}, or a different order); retrain with "
            "`qa train-spans`"
        )
    if len(weights) != len(names):
        raise ValueError(f"span scorer {source}: {len(names)} {what} but {len(weights)} weights")


@lru_cache(maxsize=1)
def default_scorer() -> SpanScorer:
    """The packaged scorer (src/qa/answer/spans.json), read once on first use."""
    return SpanScorer.load()


def best_span(sentence: str, question: str) -> ShortAnswer | None:
    """The short answer to `question` inside `sentence` when it is likely right, else None."""
    return default_scorer().span(sentence, question)
