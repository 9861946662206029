"""`qa train-reader --smoke`: train, export, load and report, on tiny sets and on the real ones."""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest
from typer.testing import CliRunner

from qa.answer.reader import Reader
from qa.cli import app
from tests.training.conftest import make_datasets

ROOT = Path(__file__).resolve().parents[2]
DATASETS = Path(os.environ.get("QA_DATASETS_DIR", ROOT / ".." / "shared" / "datasets"))


def smoke(datasets: Path, tmp_path: Path) -> tuple[Path, str]:
    out = tmp_path / "reader.onnx"
    args = ["train-reader", "--smoke", "--datasets", str(datasets), "--work", str(tmp_path / "w")]
    args += ["--out", str(out), "--report", str(tmp_path / "reader.md")]
    args += ["--cache", str(tmp_path / "embeddings")]
    result = CliRunner().invoke(app, args)
    assert result.exit_code == 0, result.output
    return out, (tmp_path / "reader.md").read_text()


@pytest.mark.e2e
def test_a_smoke_run_writes_a_loadable_reader_and_a_report(tmp_path: Path) -> None:
    out, report = smoke(make_datasets(tmp_path), tmp_path)
    meta = json.loads(out.with_suffix(".json").read_text())
    assert meta["layers"] == 1 and meta["training"]["steps"] == 4
    reading = Reader(out).read("Who keeps it?", [("", "Its keeper is Anna.")])
    assert len(reading.candidates) == 1
    assert "| squad (int8 ONNX) |" in report and "Pearson" in report
    assert "qa train-reader --smoke" in report


@pytest.mark.datasets
def test_a_smoke_run_on_the_shared_datasets(tmp_path: Path) -> None:
    out, report = smoke(DATASETS, tmp_path)
    assert out.stat().st_size < 32 * 2**20
    assert "| xquad (int8 ONNX) |" in report


def test_learning_rates_and_pooling_reach_the_training_config_and_the_reports_command(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import qa.training.reader_run as reader_run

    seen = []
    monkeypatch.setattr(reader_run, "run", lambda options, log: seen.append(options) or "ok")
    args = ["train-reader", "--layers", "3", "--lr", "0.0002", "--head-lr", "0.001"]
    args += ["--pooling", "mean"]
    result = CliRunner().invoke(app, [*args, "--datasets", str(tmp_path)])
    assert result.exit_code == 0, result.output
    (options,) = seen
    config = options.config
    assert (config.layers, config.lr, config.head_lr, config.pooling) == (3, 2e-4, 1e-3, "mean")
    assert "--lr 0.0002 --head-lr 0.001 --pooling mean" in options.command
