"""The feedback file: votes in, gold-set candidates and misses out."""

from __future__ import annotations

import json
from pathlib import Path

from qa.evaluation.datasets import load_gold
from qa.evaluation.feedback import candidate_id, export, gold_questions, read_feedback
from tests.conftest import ARTICLES
from tests.service.test_feedback import WELCOMED, vote

QUAD = ARTICLES["quad.txt"]


def test_read_feedback_reports_lines_that_are_not_records(tmp_path: Path) -> None:
    path = tmp_path / "feedback.jsonl"
    good = json.dumps(vote("q?", True))
    path.write_text(f'{good}\nnot json\n[1, 2]\n\n{{"question": "q"}}\n{good}\n')
    records, problems = read_feedback(path)
    assert len(records) == 2
    assert len(problems) == 3
    assert ":2: not JSON" in problems[0] and ":3:" in problems[1] and ":5:" in problems[2]


def test_export_turns_thumbs_up_into_gold_lines_that_load_gold_accepts(tmp_path: Path) -> None:
    result = export([vote("Who welcomed the plan?", True)], texts={"quad": QUAD})
    assert result.misses == [] and result.skipped == []
    [line] = result.candidates
    assert line == {
        "id": candidate_id("Who welcomed the plan?", "quad", 2),
        "question": "Who welcomed the plan?",
        "answerable": True,
        "split": "dev",
        "doc_id": "quad",
        "evidence": WELCOMED,
        "tags": ["feedback"],
    }
    gold = tmp_path / "gold.jsonl"
    gold.write_text(json.dumps(line) + "\n", encoding="utf-8")
    [item] = load_gold(gold, {"quad": QUAD})
    assert item.answerable and item.doc_id == "quad"
    assert [QUAD[s:e] for s, e in item.spans] == [WELCOMED]


def test_export_keeps_the_latest_vote_per_question_and_sentence() -> None:
    records = [
        vote("Who welcomed the plan?", True),
        vote("who  welcomed the plan?", False),  # same question, changed mind
        vote("Where are the factories?", False, doc_id="chips", sentence_index=0),
        vote("Where are the factories?", True, doc_id="chips", sentence_index=0),
    ]
    result = export(records)
    assert [c["question"] for c in result.candidates] == ["Where are the factories?"]
    assert [m["question"] for m in result.misses] == ["who  welcomed the plan?"]


def test_export_of_a_thumbs_up_abstention_is_an_unanswerable_line() -> None:
    record = vote(
        "What is the capital of France?",
        True,
        answer=None,
        doc_id=None,
        sentence_index=None,
        evidence=None,
    )
    [line] = export([record]).candidates
    assert line["answerable"] is False
    assert "doc_id" not in line and "evidence" not in line


def test_export_leaves_out_known_questions_and_stale_evidence() -> None:
    records = [
        vote("Who welcomed the plan?", True),
        vote("Who agreed to a summit?", True, evidence="This sentence was edited away."),
        vote("Who else?", True, evidence=None),
    ]
    result = export(records, texts={"quad": QUAD}, known_questions=["WHO welcomed the plan?"])
    assert result.candidates == []
    assert len(result.skipped) == 3
    assert "already in the gold set" in result.skipped[0]
    assert "no longer in article quad" in result.skipped[1]
    assert "no cited sentence" in result.skipped[2]


def test_candidate_ids_are_stable_and_distinct() -> None:
    a = candidate_id("Who welcomed the plan?", "quad", 2)
    assert a == candidate_id(" who welcomed  the plan? ", "quad", 2)
    assert a != candidate_id("Who welcomed the plan?", "quad", 1)
    assert a.startswith("fb-")


def test_gold_questions(tmp_path: Path) -> None:
    assert gold_questions(tmp_path / "missing.jsonl") == []
    gold = tmp_path / "gold.jsonl"
    gold.write_text('{"id": "g1", "question": "A?", "answerable": false}\n\n', encoding="utf-8")
    assert gold_questions(gold) == ["A?"]
