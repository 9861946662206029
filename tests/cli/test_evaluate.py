"""`qa eval` refuses a follow-up set it cannot load before it builds anything."""

from __future__ import annotations

import json
from pathlib import Path

from typer.testing import CliRunner

from qa.cli import app
from qa.core.settings import Settings


def test_follow_ups_whose_articles_are_missing_stop_the_run(
    cli: CliRunner, settings: Settings, tmp_path: Path
) -> None:
    gold = tmp_path / "gold.jsonl"
    line = {"id": "f1", "question": "How much did it cost?", "answerable": True,
            "doc_id": "bridge", "evidence": "cost", "tags": ["followup"]}  # fmt: skip
    alone = {"id": "g1", "question": "Who met in Tokyo?", "answerable": False}
    gold.write_text(f"{json.dumps(alone)}\n{json.dumps(line)}\n", encoding="utf-8")
    thresholds = tmp_path / "thresholds.toml"
    thresholds.write_text("[gold.all.min]\nrecall_at_1 = 0.5\n", encoding="utf-8")
    missing = tmp_path / "no-articles"
    result = cli.invoke(
        app,
        ["eval", "--gold", str(gold), "--thresholds", str(thresholds),
         "--reports", str(tmp_path / "reports"), "--followup-articles", str(missing)],
    )  # fmt: skip
    assert result.exit_code == 2, result.output
    assert "unknown doc_id 'bridge'" in result.output and str(missing) in result.output
    assert not (settings.index_dir).exists()  # nothing was built
