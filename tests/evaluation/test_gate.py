"""The eval gate: every bound a run misses is one readable line."""

from __future__ import annotations

from pathlib import Path

from qa.evaluation.gate import gate, load_thresholds
from qa.evaluation.runner import EvalRun


def _run(metrics: dict[str, dict[str, float]]) -> EvalRun:
    return EvalRun("gold", [], metrics, {})


def test_gate_reports_each_bound_missed(tmp_path: Path) -> None:
    path = tmp_path / "thresholds.toml"
    path.write_text(
        "[gold.dev.min]\nrecall_at_1 = 0.8\nmrr = 0.5\n[gold.dev.max]\nconfidence_ece = 0.2\n"
        "[gold.test.min]\nrecall_at_1 = 0.5\n"
    )
    thresholds = load_thresholds(path)
    good = {"dev": {"recall_at_1": 0.9, "mrr": 0.6, "confidence_ece": 0.1}}
    assert gate(_run(good), thresholds) == ["gold/test: no questions in this split"]
    bad = {
        "dev": {"recall_at_1": 0.7, "mrr": float("nan"), "confidence_ece": 0.3},
        "test": {"recall_at_1": 0.5},
    }
    assert gate(_run(bad), thresholds) == [
        "gold/dev: recall_at_1 = 0.700 is below the threshold 0.8",
        "gold/dev: mrr = – is below the threshold 0.5",
        "gold/dev: confidence_ece = 0.300 is above the threshold 0.2",
    ]


def test_a_run_without_thresholds_fails() -> None:
    assert gate(_run({}), {"other": {}}) == [
        "gold: no thresholds for this run (the file has: other)"
    ]


def test_the_follow_up_set_is_gated_as_the_split_followup() -> None:
    from qa.evaluation.followups import FollowupRun

    thresholds = {"gold": {"followup": {"min": {"sentence_at_1_with_history": 0.6}}}}
    run = _run({})
    assert gate(run, thresholds) == ["gold/followup: no questions in this split"]
    run.followup = FollowupRun([], {"sentence_at_1_with_history": 0.5}, 5)
    assert gate(run, thresholds) == [
        "gold/followup: sentence_at_1_with_history = 0.500 is below the threshold 0.6"
    ]
    run.followup = FollowupRun([], {"sentence_at_1_with_history": 0.7}, 5)
    assert gate(run, thresholds) == []
