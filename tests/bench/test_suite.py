"""The benchmark suite keeps working: a smoke run with tiny sizes.

No figure is ever asserted: they depend on the machine and on whatever else it is doing.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from qa.bench.context import BenchConfig
from qa.bench.suite import run_bench
from tests.conftest import SEEDS


@pytest.mark.bench
def test_smoke_run_writes_both_reports(tmp_path: Path) -> None:
    config = BenchConfig.smoke(tmp_path / "reports", seeds=SEEDS, load_tool="python")
    json_path, md_path = run_bench(config, log=lambda _m: None)
    results = json.loads(json_path.read_text())
    assert set(results) >= {
        "meta",
        "encoders",
        "inproc",
        "build",
        "http",
        "memory",
        "scaling",
        "targets",
    }
    assert {t["target"] for t in results["targets"]} >= {
        "HTTP /ask p50 at 1 connection",
        "cold start to /health ready",
        "server peak RSS through article uploads",
    }
    memory = results["memory"]
    assert memory["article_bytes"] == 20_000 and len(memory["after"]) == 1
    level = results["http"]["onnx-int8"]["levels"]["1"]
    assert level["requests"] > 0 and sum(level["errors"].values()) == 0
    assert "## Targets" in md_path.read_text()
    assert not (tmp_path / "reports" / "latest.md").exists()  # smoke runs never replace it
