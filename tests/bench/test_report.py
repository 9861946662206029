"""The targets of the bench report are judged against the same run's reference."""

from __future__ import annotations

from qa.bench.report import markdown, targets


def test_targets_compare_against_the_same_runs_reference() -> None:
    results = {
        "meta": {"config": {"encoder": "onnx-int8"}},
        "encoders": {
            "torch": {"query": {"p50_ms": 10.0}},
            "onnx-int8": {"cosine_to_torch": {"min": 0.99}},
        },
        "http": {
            "onnx-int8": {
                "levels": {
                    "1": {"p50_ms": 19.0},
                    "16": {"rps": 90.0, "p99_ms": 90.0, "errors": {"read": 1}},
                },
                "cold_start_median_s": 0.8,
                "rss": {"sum_mb": 200.0},
            }
        },
    }
    got = {t["target"]: t for t in targets(results)}
    assert got["HTTP /ask p50 at 1 connection"]["limit"] == "<= 20.0"  # 2 x 10 ms
    assert got["HTTP /ask p50 at 1 connection"]["met"] is True
    assert got["HTTP req/s at 16 connections"]["met"] is False  # needs 1 / 10 ms = 100
    assert got["HTTP errors at 16 connections"]["met"] is False
    assert got["index build vs torch fp32 (squad)"]["met"] is None  # not run
    assert "| HTTP p99 at 16 connections | 90 |" in markdown(
        {**results, "targets": list(got.values())}
    )
