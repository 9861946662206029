"""Score candidate sentences from their features with a logistic model.

The logit ranks candidates; its sigmoid is the answer's `confidence`, the probability that the
sentence answers the question. The weights live in a small JSON file so they can be retrained
(`qa train-ranker`) and reviewed in a diff.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from importlib import resources
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np

if TYPE_CHECKING:
    from numpy.typing import NDArray

DEFAULT_RANKER = "ranker.json"


@dataclass(frozen=True)
class Ranker:
    """`logit = features @ weights + bias`, `confidence = sigmoid(logit)`."""

    features: tuple[str, ...]
    weights: NDArray[np.float64]
    bias: float
    source: str = "inline"

    def logits(self, features: NDArray[np.float64]) -> NDArray[np.float64]:
        return np.asarray(features @ self.weights + self.bias, dtype=np.float64)

    @staticmethod
    def confidence(logit: float) -> float:
        return float(1.0 / (1.0 + np.exp(-logit)))

    def to_json(self) -> dict[str, object]:
        return {
            "features": list(self.features),
            "weights": [round(float(w), 6) for w in self.weights],
            "bias": round(self.bias, 6),
        }

    @classmethod
    def from_json(cls, data: dict[str, object], source: str = "inline") -> Ranker:
        features = tuple(str(f) for f in data["features"])  # type: ignore[attr-defined]
        weights = np.asarray(data["weights"], dtype=np.float64)
        if len(weights) != len(features):
            raise ValueError(
                f"ranker {source}: {len(features)} features but {len(weights)} weights"
            )
        return cls(features, weights, float(data["bias"]), source)  # type: ignore[arg-type]

    @classmethod
    def load(cls, path: Path | None = None) -> Ranker:
        """The ranker at `path`, or the one packaged with qa."""
        if path is None:
            text = resources.files("qa").joinpath(DEFAULT_RANKER).read_text(encoding="utf-8")
            return cls.from_json(json.loads(text), f"qa/{DEFAULT_RANKER}")
        return cls.from_json(json.loads(path.read_text(encoding="utf-8")), str(path))
