"""The bench configuration: the smoke run is small, and what is given overrides it."""

from __future__ import annotations

from pathlib import Path

from qa.bench.context import SECTIONS, BenchConfig, stats_ms


def test_smoke_is_small_and_overridable(tmp_path: Path) -> None:
    smoke = BenchConfig.smoke(tmp_path, duration=2.0, sections=("http",))
    full = BenchConfig(out=tmp_path)
    assert smoke.out == tmp_path and smoke.duration == 2.0 and smoke.sections == ("http",)
    assert smoke.asks < full.asks and not smoke.write_latest and full.sections == SECTIONS


def test_stats_are_in_milliseconds() -> None:
    assert stats_ms([0.001, 0.002, 0.003]) == {
        "n": 3,
        "p50_ms": 2.0,
        "p95_ms": 2.9,
        "p99_ms": 2.98,
    }
