"""Score candidate sentences with a logistic model, and say how likely the best one is right.

Two small logistic models, both in one JSON file so they can be retrained (`qa train-ranker`)
and reviewed in a diff:

- the ranker: `logit = features @ weights + bias` per candidate sentence; it orders candidates,
  and its sigmoid is a candidate's probability of answering the question;
- the confidence model: from the best candidate's logit, its margin over the runner-up and a few
  of its features, the calibrated probability that the answer is right. Without one, confidence
  is the best candidate's sigmoid.
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
LOG_SENTENCES = "log_sentences"
NO_RUNNER_UP_MARGIN = 10.0


def corpus_size_feature(sentences: int) -> float:
    return float(np.log1p(sentences))


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
class Ranker:
    """Candidate logits (`features @ weights + bias`) and the answer's confidence."""

    features: tuple[str, ...]
    weights: NDArray[np.float64]
    bias: float
    source: str = "inline"
    calibrator: Linear | None = None
    meta: dict[str, Any] | None = None

    def logits(self, features: NDArray[np.float64]) -> NDArray[np.float64]:
        return np.asarray(features @ self.weights + self.bias, dtype=np.float64)

    @property
    def abstain_threshold(self) -> float:
        """The threshold chosen when the model was trained (0.5 when none was)."""
        return float((self.meta or {}).get("abstain_threshold", 0.5))

    def answer_confidence(
        self,
        top: dict[str, float],
        top_logit: float,
        runner_up_logit: float | None,
        corpus_sentences: int,
    ) -> float:
        """Calibrated probability that the best candidate answers the question."""
        if self.calibrator is None:
            return sigmoid(top_logit)
        margin = NO_RUNNER_UP_MARGIN if runner_up_logit is None else top_logit - runner_up_logit
        values = {
            **top,
            TOP_LOGIT: top_logit,
            MARGIN: margin,
            LOG_SENTENCES: corpus_size_feature(corpus_sentences),
        }
        return sigmoid(self.calibrator.logit(values))

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
        calibrator = Linear.from_json(data["confidence"], source) if "confidence" in data else None
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
            text = resources.files("qa").joinpath(DEFAULT_RANKER).read_text(encoding="utf-8")
            return cls.from_json(json.loads(text), f"qa/{DEFAULT_RANKER}")
        return cls.from_json(json.loads(path.read_text(encoding="utf-8")), str(path))
