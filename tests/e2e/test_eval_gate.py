"""The gold-set gate: it passes with the packaged ranker and bites when answers get worse."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
from typer.testing import CliRunner

from qa.cli import app
from qa.ranker import Ranker
from tests.conftest import SEEDS

pytestmark = pytest.mark.e2e
ROOT = Path(__file__).resolve().parents[2]


def run_eval(tmp_path: Path, *extra: str) -> tuple[int, str]:
    result = CliRunner().invoke(
        app,
        [
            "eval",
            "--seeds",
            str(SEEDS),
            "--gold",
            str(ROOT / "eval" / "gold.jsonl"),
            "--thresholds",
            str(ROOT / "eval" / "thresholds.toml"),
            "--reports",
            str(tmp_path / "reports"),
            *extra,
        ],
    )
    return result.exit_code, result.output


def test_gate_passes_with_the_packaged_ranker(tmp_path: Path) -> None:
    code, output = run_eval(tmp_path)
    assert code == 0, output
    report = json.loads((tmp_path / "reports" / "gold.json").read_text())
    assert report["metrics"]["all"]["citation_validity"] == 1.0
    assert report["meta"]["weights_sha256"] and report["meta"]["git_commit"]
    assert (tmp_path / "reports" / "latest.md").read_text().startswith("# Eval report: gold")


def test_gate_fails_with_a_random_ranker(tmp_path: Path) -> None:
    good = Ranker.load()
    rng = np.random.default_rng(0)
    bad = Ranker(good.features, rng.normal(size=len(good.weights)), 0.0, "random", good.calibrator)
    path = tmp_path / "random-ranker.json"
    path.write_text(json.dumps(bad.to_json()))
    code, output = run_eval(tmp_path, "--ranker", str(path))
    assert code == 1
    assert "GATE FAILED" in output and "recall_at_1" in output
