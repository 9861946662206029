"""Feedback on answers, read back from the JSON-lines file and turned into gold-set candidates.

Real use grows the eval set: `qa feedback export` writes every 👍 answer as a candidate line of
eval/gold.jsonl (the question, its article and the cited sentence as evidence) for a person to
review before adding it, and lists every 👎 as a miss to look at.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any


def _lines(path: Path) -> list[str]:
    # "\n" only: str.splitlines also splits at U+2028, U+0085 and others inside a record.
    return path.read_text(encoding="utf-8").split("\n")


def read_feedback(path: Path) -> tuple[list[dict[str, Any]], list[str]]:
    """The records of a feedback file, and one message per line that is not a record."""
    records: list[dict[str, Any]] = []
    problems: list[str] = []
    for number, line in enumerate(_lines(path), 1):
        if not line.strip():
            continue
        try:
            raw = json.loads(line)
        except ValueError as err:
            problems.append(f"{path}:{number}: not JSON ({err})")
            continue
        question = raw.get("question") if isinstance(raw, dict) else None
        if not isinstance(question, str) or not isinstance(raw.get("helpful"), bool):
            problems.append(f"{path}:{number}: not a feedback record")
            continue
        records.append(raw)
    return records, problems


@dataclass
class Export:
    """What `export` made of the feedback: gold candidates, misses, and what it left out."""

    candidates: list[dict[str, Any]] = field(default_factory=list)
    misses: list[dict[str, Any]] = field(default_factory=list)
    skipped: list[str] = field(default_factory=list)


def _normal(question: str) -> str:
    return " ".join(question.split()).casefold()


def candidate_id(question: str, doc_id: str | None, sentence_index: int | None) -> str:
    """A stable id, so exporting twice yields the same lines (and load_gold sees duplicates)."""
    key = f"{_normal(question)}\x00{doc_id}\x00{sentence_index}"
    return "fb-" + hashlib.sha256(key.encode()).hexdigest()[:10]


def export(
    records: Iterable[Mapping[str, Any]],
    *,
    texts: Mapping[str, str] | None = None,
    known_questions: Iterable[str] = (),
) -> Export:
    """Gold-set candidates from 👍 votes and misses from 👎 votes.

    The latest vote on one (question, cited sentence) wins. Questions already in the gold set are
    left out. With `texts` (doc_id -> article text), a candidate whose evidence is no longer in
    its article is left out too, since load_gold would reject it.
    """
    latest: dict[tuple[str, str | None, int | None], Mapping[str, Any]] = {}
    for record in records:
        key = (_normal(record["question"]), record.get("doc_id"), record.get("sentence_index"))
        latest.pop(key, None)  # re-insert so the order is that of each key's latest vote
        latest[key] = record
    known = {_normal(q) for q in known_questions}
    out = Export()
    for record in latest.values():
        question = record["question"]
        if not record["helpful"]:
            out.misses.append(dict(record))
            continue
        if _normal(question) in known:
            out.skipped.append(f"already in the gold set: {question!r}")
            continue
        doc_id, index = record.get("doc_id"), record.get("sentence_index")
        line: dict[str, Any] = {"id": candidate_id(question, doc_id, index), "question": question}
        if record.get("answer") is None:
            line |= {"answerable": False, "split": "dev", "tags": ["feedback", "abstained"]}
            out.candidates.append(line)
            continue
        evidence = record.get("evidence")
        if not isinstance(doc_id, str) or not isinstance(evidence, str) or not evidence:
            out.skipped.append(f"no cited sentence recorded: {question!r}")
            continue
        if texts is not None and evidence not in texts.get(doc_id, ""):
            out.skipped.append(f"evidence no longer in article {doc_id}: {question!r}")
            continue
        line |= {
            "answerable": True,
            "split": "dev",
            "doc_id": doc_id,
            "evidence": evidence,
            "tags": ["feedback"],
        }
        out.candidates.append(line)
    return out


def gold_questions(path: Path) -> list[str]:
    """The questions of a gold file (empty when there is none)."""
    if not path.exists():
        return []
    questions = []
    for line in _lines(path):
        if line.strip():
            raw = json.loads(line)
            if isinstance(raw, dict) and isinstance(raw.get("question"), str):
                questions.append(raw["question"])
    return questions
