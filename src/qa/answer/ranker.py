"""Score candidate sentences with a logistic model, and say how likely the best one is right.

Two small logistic models, both in one JSON file so they can be retrained (`qa train-ranker`)
and reviewed in a diff:

- the ranker: `logit = features @ weights + bias` per candidate sentence; it orders candidates,
  and its sigmoid is a candidate's probability of answering the question;
- the confidence model: the calibrated probability that the best candidate answers the question,
  as P(the articles answer the question) x P(the best candidate is the answer | they do), two
  logistic models over features that mean the same in a corpus of one article or of thousands
  (absolute similarity and coverage, answer type, agreement between retrieval signals, the
  share of the question's terms no article uses). Factoring it this way lets the first model
  push questions the articles know nothing about far below answerable questions whose best
  sentence is uncertain. Without a confidence model, confidence is the best candidate's sigmoid.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from importlib import resources
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

if TYPE_CHECKING:
    from numpy.typing import NDArray

DEFAULT_RANKER = "ranker.json"


# Confidence features that are not candidate features.
TOP_LOGIT = "top_logit"
MARGIN = "margin"
NO_RUNNER_UP_MARGIN = 10.0
# What the confidence model reads of the reader (qa.answer.reading.READER_VALUES) when it is off.
UNREAD = {"reader": 0.0, "reader_margin": 0.0, "reader_none": 0.0}


def sigmoid(x: float) -> float:
    return float(1.0 / (1.0 + np.exp(-np.clip(x, -50, 50))))


@dataclass(frozen=True)
class Linear:
    """A logistic model over named features."""

    features: tuple[str, ...]
    weights: NDArray[np.float64]
    bias: float

    def logit(self, values: dict[str, float]) -> float:
        x = np.array([values[f] for f in self.features], dtype=np.float64)
        return float(x @ self.weights + self.bias)

    def to_json(self) -> dict[str, object]:
        return {
            "features": list(self.features),
            "weights": [round(float(w), 6) for w in self.weights],
            "bias": round(self.bias, 6),
        }

    @classmethod
    def from_json(cls, data: dict[str, Any], source: str) -> Linear:
        features = tuple(str(f) for f in data["features"])
        weights = np.asarray(data["weights"], dtype=np.float64)
        if len(weights) != len(features):
            raise ValueError(
                f"ranker {source}: {len(features)} features but {len(weights)} weights"
            )
        return cls(features, weights, float(data["bias"]))


@dataclass(frozen=True)
class ConfidenceModel:
    """P(answerable) x P(right | answerable), each a logistic model over named values."""

    answerable: Linear
    right: Linear

    def parts(self, values: dict[str, float]) -> tuple[float, float]:
        """P(the articles answer the question) and P(the best candidate is the answer | they do)."""
        return sigmoid(self.answerable.logit(values)), sigmoid(self.right.logit(values))

    def probability(self, values: dict[str, float]) -> float:
        answerable, right = self.parts(values)
        return answerable * right

    def to_json(self) -> dict[str, object]:
        return {"answerable": self.answerable.to_json(), "right": self.right.to_json()}

    @classmethod
    def from_json(cls, data: dict[str, Any], source: str) -> ConfidenceModel:
        if "answerable" not in data or "right" not in data:
            raise ValueError(
                f"ranker {source}: the confidence model needs 'answerable' and 'right' parts "
                "(retrain with `qa train-confidence`)"
            )
        return cls(
            Linear.from_json(data["answerable"], source), Linear.from_json(data["right"], source)
        )

    @property
    def features(self) -> tuple[str, ...]:
        return tuple(dict.fromkeys(self.answerable.features + self.right.features))


@dataclass(frozen=True)
class Ranker:
    """Candidate logits (`features @ weights + bias`) and the answer's confidence."""

    features: tuple[str, ...]
    weights: NDArray[np.float64]
    bias: float
    source: str = "inline"
    calibrator: ConfidenceModel | None = None
    meta: dict[str, Any] | None = None

    def logits(self, features: NDArray[np.float64]) -> NDArray[np.float64]:
        return np.asarray(features @ self.weights + self.bias, dtype=np.float64)

    @property
    def abstain_threshold(self) -> float:
        """The threshold on P(answerable) chosen when the model was trained (0.5 when none was)."""
        return float((self.meta or {}).get("abstain_threshold", 0.5))

    def answer_probabilities(
        self, top: dict[str, float], top_logit: float, runner_up_logit: float | None
    ) -> tuple[float, float]:
        """(confidence, P(answerable)): the calibrated probability that the best candidate
        answers the question, and that the articles answer it at all (what abstention reads).

        `top` holds the best candidate's features and the question's own (`QUESTION_FEATURES`).
        """
        if self.calibrator is None:
            p = sigmoid(top_logit)
            return p, p
        # With the reader off (QA_READER_CANDIDATES=0) its values read as an undecided reading.
        values = {**UNREAD, **confidence_values(top, top_logit, runner_up_logit)}
        answerable, right = self.calibrator.parts(values)
        return answerable * right, answerable

    def to_json(self) -> dict[str, object]:
        out = Linear(self.features, self.weights, self.bias).to_json()
        if self.calibrator is not None:
            out["confidence"] = self.calibrator.to_json()
        if self.meta:
            out["meta"] = self.meta
        return out

    @classmethod
    def from_json(cls, data: dict[str, Any], source: str = "inline") -> Ranker:
        linear = Linear.from_json(data, source)
        calibrator = (
            ConfidenceModel.from_json(data["confidence"], source) if "confidence" in data else None
        )
        return cls(
            linear.features,
            linear.weights,
            linear.bias,
            source,
            calibrator,
            data.get("meta"),
        )

    @classmethod
    def load(cls, path: Path | None = None) -> Ranker:
        """The ranker at `path`, or the one packaged with qa."""
        if path is None:
            text = resources.files("qa.answer").joinpath(DEFAULT_RANKER).read_text(encoding="utf-8")
            return cls.from_json(json.loads(text), f"qa/{DEFAULT_RANKER}")
        return cls.from_json(json.loads(path.read_text(encoding="utf-8")), str(path))


def confidence_values(
    top: dict[str, float], top_logit: float, runner_up_logit: float | None
) -> dict[str, float]:
    """What the confidence model reads: the best candidate's features, its logit, and its
    margin over the runner-up (capped, so one far-ahead candidate is not a certainty)."""
    margin = NO_RUNNER_UP_MARGIN if runner_up_logit is None else top_logit - runner_up_logit
    return {**top, TOP_LOGIT: top_logit, MARGIN: min(margin, NO_RUNNER_UP_MARGIN)}
