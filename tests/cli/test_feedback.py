"""`qa feedback export`: the feedback file turned into gold-set candidates and misses."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

from qa.cli import app
from qa.evaluation.datasets import load_gold
from qa.evaluation.feedback import read_feedback
from qa.service.feedback import FeedbackLog
from tests.evaluation.test_feedback import QUAD, WELCOMED, vote


@pytest.fixture
def votes(tmp_path: Path) -> Path:
    path = tmp_path / "feedback.jsonl"
    log = FeedbackLog(path)
    log.append(vote("Who welcomed the plan?", True))
    log.append(vote("Who agreed on a summit?", False, sentence_index=1))
    log.append(vote("Known question?", True))
    return path


def test_cli_export_writes_candidates_and_lists_misses(
    votes: Path, seeds_dir: Path, tmp_path: Path
) -> None:
    gold = tmp_path / "gold.jsonl"
    gold.write_text('{"id": "g1", "question": "Known question?", "answerable": false}\n')
    out = tmp_path / "out" / "candidates.jsonl"
    args = ["feedback", "export", "--file", str(votes), "--seeds", str(seeds_dir)]
    result = CliRunner().invoke(app, [*args, "--gold", str(gold), "--out", str(out)])
    assert result.exit_code == 0, result.output
    [line] = [json.loads(x) for x in out.read_text(encoding="utf-8").splitlines()]
    assert line["question"] == "Who welcomed the plan?" and line["evidence"] == WELCOMED
    assert "1 miss(es) to look at" in result.stderr
    assert "Who agreed on a summit?" in result.stderr
    assert "already in the gold set" in result.stderr
    assert "1 candidate line(s)" in result.stderr
    # Without --out the candidates are the standard output, ready to redirect.
    result = CliRunner().invoke(app, [*args, "--gold", str(gold)])
    assert result.exit_code == 0
    assert [json.loads(x)["question"] for x in result.stdout.splitlines()] == [
        "Who welcomed the plan?"
    ]


def test_cli_export_reads_the_feedback_path_setting(
    votes: Path, seeds_dir: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("QA_FEEDBACK_PATH", str(votes))
    gold = tmp_path / "none.jsonl"
    result = CliRunner().invoke(
        app, ["feedback", "export", "--seeds", str(seeds_dir), "--gold", str(gold)]
    )
    assert result.exit_code == 0, result.output
    assert len(result.stdout.splitlines()) == 2


def test_cli_export_without_a_feedback_file_says_so(tmp_path: Path, seeds_dir: Path) -> None:
    missing = tmp_path / "nothing.jsonl"
    result = CliRunner().invoke(
        app, ["feedback", "export", "--file", str(missing), "--seeds", str(seeds_dir)]
    )
    assert result.exit_code == 2
    assert "nothing has been recorded yet" in result.stderr


@pytest.mark.parametrize("breaker", ["\u2028", "\u2029", "\x85", "\x0b", "\x1e"])
def test_a_question_with_a_unicode_line_break_is_read_back_and_exported_whole(
    tmp_path: Path, seeds_dir: Path, breaker: str
) -> None:
    question = f"Who welcomed{breaker}the plan?"
    path = tmp_path / "feedback.jsonl"
    log = FeedbackLog(path)
    log.append(vote(question, True))
    log.append(vote("Who agreed on a summit?", True))
    records, problems = read_feedback(path)
    assert problems == []
    assert [r["question"] for r in records] == [question, "Who agreed on a summit?"]
    out = tmp_path / "candidates.jsonl"
    args = ["feedback", "export", "--file", str(path), "--seeds", str(seeds_dir)]
    result = CliRunner().invoke(app, [*args, "--gold", str(tmp_path / "none"), "--out", str(out)])
    assert result.exit_code == 0, result.output
    assert "not JSON" not in result.stderr
    # Every line reader agrees on the lines: the break is escaped in the file.
    lines = out.read_text(encoding="utf-8").splitlines()
    assert [json.loads(x)["question"] for x in lines] == [question, "Who agreed on a summit?"]
    [item, _] = load_gold(out, {"quad": QUAD})
    assert item.question == question
