"""`qa bench`: its options become the suite's configuration (the suite itself is faked; its
smoke run is tests/bench/test_suite.py)."""

from __future__ import annotations

import os
from pathlib import Path

import pytest
from typer.testing import CliRunner

from qa.bench.context import BenchConfig
from qa.cli import app


@pytest.fixture
def ran(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> list[BenchConfig]:
    configs: list[BenchConfig] = []

    def fake_run(config: BenchConfig, log: object) -> tuple[Path, Path]:
        configs.append(config)
        md = tmp_path / "report.md"
        md.write_text("# Benchmark\n")
        return tmp_path / "report.json", md

    monkeypatch.setattr("qa.bench.suite.run_bench", fake_run)
    for name in [name for name in os.environ if name.startswith("QA_")]:
        monkeypatch.delenv(name)
    return configs


def test_options_become_the_configuration(ran: list[BenchConfig], tmp_path: Path) -> None:
    args = ["bench", "--out", str(tmp_path / "r"), "--only", "encoders", "--only", "http"]
    args += ["--sizes", "100, ,2000,", "--big", "0", "--duration", "1.5", "--load-tool", "python"]
    result = CliRunner().invoke(app, args, env={"QA_ENCODER": "onnx-fp32", "QA_THREADS": "2"})
    assert result.exit_code == 0, result.output
    (config,) = ran
    assert config.out == tmp_path / "r" and config.sections == ("encoders", "http")
    assert config.scaling_sizes == (100, 2000) and config.big_sentences == 0
    assert (config.duration, config.load_tool) == (1.5, "python")
    assert (config.encoder, config.threads) == ("onnx-fp32", 2)
    assert "# Benchmark" in result.stdout and "reports:" in result.stdout


def test_smoke_uses_the_smoke_sizes(ran: list[BenchConfig], tmp_path: Path) -> None:
    result = CliRunner().invoke(app, ["bench", "--smoke", "--out", str(tmp_path)])
    assert result.exit_code == 0, result.output
    defaults = {"encoder": "onnx-int8", "encoder_cache": None, "threads": 0}
    assert ran == [BenchConfig.smoke(tmp_path, seeds=Path("seeds"), load_tool="auto", **defaults)]
    assert ran[0].write_latest is False


def test_an_unknown_section_is_a_usage_error(ran: list[BenchConfig]) -> None:
    result = CliRunner().invoke(app, ["bench", "--only", "warp-drive"])
    assert result.exit_code == 2 and "unknown sections ['warp-drive']" in result.output
    assert ran == []
