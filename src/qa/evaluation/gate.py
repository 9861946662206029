"""`qa eval`'s gate: the thresholds a run must meet."""

from __future__ import annotations

import math
import tomllib
from pathlib import Path
from typing import Any

from qa.evaluation.reports import fmt
from qa.evaluation.runner import EvalRun


def load_thresholds(path: Path) -> dict[str, Any]:
    with path.open("rb") as handle:
        return tomllib.load(handle)


def gate(run: EvalRun, thresholds: dict[str, Any]) -> list[str]:
    """Every threshold `run` misses, as readable lines; [] when it passes.

    `thresholds[name][split]["min" | "max"][metric]` bounds a metric of one split; the split
    `followup` bounds the follow-up set's metrics.
    """
    if run.name not in thresholds:
        known = ", ".join(sorted(thresholds)) or "none"
        return [f"{run.name}: no thresholds for this run (the file has: {known})"]
    failures = []
    sections = dict(run.metrics)
    if run.followup is not None:
        sections["followup"] = run.followup.metrics
    for split, bounds in thresholds[run.name].items():
        got = sections.get(split)
        if got is None:
            failures.append(f"{run.name}/{split}: no questions in this split")
            continue
        for kind, limits in bounds.items():
            for metric, limit in limits.items():
                value = got.get(metric, float("nan"))
                bad = (
                    math.isnan(value)
                    or (kind == "min" and value < limit)
                    or (kind == "max" and value > limit)
                )
                if bad:
                    word = "below" if kind == "min" else "above"
                    failures.append(
                        f"{run.name}/{split}: {metric} = {fmt(value)} is {word} "
                        f"the threshold {limit}"
                    )
    return failures
