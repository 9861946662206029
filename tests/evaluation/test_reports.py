"""The eval reports: the summary table and the Markdown and JSON files."""

from __future__ import annotations

import json
from pathlib import Path

from qa.evaluation.metrics import Outcome
from qa.evaluation.reports import fmt, table, write_reports
from qa.evaluation.runner import EvalRun

META = {
    "created": "2026-01-01T00:00:00+00:00",
    "git_commit": "abc",
    "model": "m",
    "weights_sha256": "0" * 64,
    "ranker": "r",
    "ranker_sha256": "1" * 64,
    "dataset": None,
    "documents": 1,
    "sentences": 3,
}


def _outcome(answerable: bool, answered: bool, right: bool) -> Outcome:
    return Outcome(
        id="q1",
        question="Who | what?",
        answerable=answerable,
        split="dev",
        tags=(),
        rank=1 if right else None,
        answered=answered,
        answer="An answer." if answered else None,
        answer_correct=right,
        top_correct=right,
        short_answer_ok=None,
        confidence=0.5,
        citations=1,
        citations_valid=1,
        latency_ms=1.0,
    )


def test_fmt_shows_counts_shares_and_missing_values() -> None:
    assert (fmt(12.0), fmt(0.5), fmt(1.0), fmt(float("nan"))) == ("12", "0.500", "1.000", "–")


def test_table_has_a_column_per_split_and_known_metrics_only() -> None:
    run = EvalRun(
        "gold", [], {"all": {"questions": 4, "mrr": 0.75, "x": 1}, "dev": {"mrr": 1.0}}, {}
    )
    assert table(run).splitlines() == [
        "| metric | all | dev |",
        "|---|---:|---:|",
        "| questions | 4 | – |",
        "| mrr | 0.750 | 1.000 |",
    ]


def test_write_reports_lists_misses_and_gate_failures(tmp_path: Path) -> None:
    outcomes = [_outcome(True, False, False), _outcome(False, True, False)]
    run = EvalRun("gold", outcomes, {"all": {"questions": 2}}, META)
    json_path, md_path = write_reports(run, tmp_path / "reports", ["gold/all: bad"])
    payload = json.loads(json_path.read_text())
    assert payload["gate_failures"] == ["gold/all: bad"] and len(payload["outcomes"]) == 2
    text = md_path.read_text()
    assert "## Gate failures" in text and "- gold/all: bad" in text
    assert "## Misses (1 answerable questions not answered right)" in text
    assert "Who \\| what?" in text and "*(abstained)*" in text
    assert "## Answered but unanswerable (1)" in text
