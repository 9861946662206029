"""The feedback file's writer: every vote one whole JSON line, under threads and processes."""

from __future__ import annotations

import json
import multiprocessing
import threading
from pathlib import Path
from typing import Any

from qa.evaluation.feedback import read_feedback
from qa.service.feedback import FeedbackLog, feedback_record

WELCOMED = "Prime Minister Shigeru Ishiba welcomed the plan."


def vote(
    question: str,
    helpful: bool,
    *,
    answer: str | None = WELCOMED,
    doc_id: str | None = "quad",
    sentence_index: int | None = 2,
    evidence: str | None = WELCOMED,
) -> dict[str, Any]:
    return feedback_record(
        question=question,
        answer=answer,
        doc_id=doc_id,
        sentence_index=sentence_index,
        evidence=evidence,
        helpful=helpful,
    )


def test_append_writes_one_json_line_per_vote_and_creates_the_folder(tmp_path: Path) -> None:
    path = tmp_path / "new" / "feedback.jsonl"
    log = FeedbackLog(path)
    log.append(vote("Who welcomed the plan?", True))
    log.append(vote("Who — really — welcomed it? 😀", False))
    records, problems = read_feedback(path)
    assert problems == []
    assert [r["question"] for r in records] == [
        "Who welcomed the plan?",
        "Who — really — welcomed it? 😀",
    ]
    assert [r["helpful"] for r in records] == [True, False]
    assert path.read_text(encoding="utf-8").count("\n") == 2


def test_concurrent_appends_keep_every_line_whole(tmp_path: Path) -> None:
    path = tmp_path / "feedback.jsonl"
    log = FeedbackLog(path)
    long_question = "why " * 200  # lines of ~1 KB make torn writes visible

    def worker(n: int) -> None:
        for i in range(25):
            log.append(vote(f"{long_question}{n}-{i}", i % 2 == 0))

    threads = [threading.Thread(target=worker, args=(n,)) for n in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    records, problems = read_feedback(path)
    assert problems == []
    assert len(records) == 200
    assert len({r["question"] for r in records}) == 200


def _append_votes(path: str, n: int, start: Any, count: int) -> None:
    """One writer process: its own FeedbackLog (so its own lock), started with the others."""
    log = FeedbackLog(Path(path))
    start.wait()
    for i in range(count):
        log.append(vote(f"{'why ' * 200}{n}-{i}", i % 2 == 0))


def test_appends_from_several_processes_keep_every_line_whole(tmp_path: Path) -> None:
    # No lock is shared between processes: O_APPEND and one write per line must keep them whole.
    path = tmp_path / "feedback.jsonl"
    context = multiprocessing.get_context("spawn")
    start = context.Event()
    writers = [
        context.Process(target=_append_votes, args=(str(path), n, start, 50)) for n in range(4)
    ]
    for writer in writers:
        writer.start()
    start.set()
    for writer in writers:
        writer.join(120)
    assert [w.exitcode for w in writers] == [0] * 4
    lines = path.read_bytes().split(b"\n")
    assert lines[-1] == b"" and len(lines) == 201
    records = [json.loads(line) for line in lines[:-1]]
    assert sorted(r["question"] for r in records) == sorted(
        f"{'why ' * 200}{n}-{i}" for n in range(4) for i in range(50)
    )
