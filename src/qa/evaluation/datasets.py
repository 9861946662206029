"""Question sets for evaluation: the hand-written gold file and SQuAD-format benchmarks.

Both become a list of `EvalItem`s whose expected answer is a set of character spans in one
document, so one scorer serves both: a cited sentence is a hit when it overlaps an expected span
(and, for SQuAD, lies in the question's paragraph).
"""

from __future__ import annotations

import json
import re
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

from qa.core.errors import QAError

PARAGRAPH_JOINER = "\n\n"


class DatasetError(QAError, ValueError):
    """A question file that cannot be used as it is."""


@dataclass(frozen=True)
class EvalItem:
    """One question and what a right answer looks like."""

    id: str
    question: str
    answerable: bool
    doc_id: str | None = None
    spans: tuple[tuple[int, int], ...] = ()  # expected evidence spans in the document
    region: tuple[int, int] | None = None  # the cited sentence must lie here (SQuAD paragraph)
    evidence: str | None = None
    answers: tuple[str, ...] = ()  # short answers; a right answer contains one of them
    tags: tuple[str, ...] = ()
    split: str = "all"
    extra: dict[str, object] = field(default_factory=dict)


FOLLOWUP_TAG = "followup"


def load_gold(path: Path, texts: dict[str, str]) -> list[EvalItem]:
    """Read a gold JSON-lines file and locate each evidence string in its article's text.

    Lines tagged `followup` are left out: they are the follow-up set (`load_followups`), asked
    over its own corpus, so they never move the gold figures."""
    return _gold_items(path, texts, followups=False)


def load_followups(path: Path, texts: dict[str, str]) -> list[EvalItem]:
    """The lines of a gold file tagged `followup`: first questions, and follow-ups whose
    `previous` names the id of the question they follow (an earlier `followup` line), kept in
    `extra["previous"]`."""
    items = _gold_items(path, texts, followups=True)
    seen: set[str] = set()
    for item in items:
        previous = item.extra.get("previous")
        if previous is not None and previous not in seen:
            raise DatasetError(
                f"{path}: {item.id}: previous {previous!r} is not an earlier followup line"
            )
        seen.add(item.id)
    return items


def _gold_items(path: Path, texts: dict[str, str], *, followups: bool) -> list[EvalItem]:
    """The follow-up lines of a gold file, or the others (ids are checked over all of them):
    the other set's articles may not be in `texts`."""
    items: list[EvalItem] = []
    seen: set[str] = set()
    for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
        if not line.strip():
            continue
        try:
            raw = json.loads(line)
            item_id, question, answerable = raw["id"], raw["question"], raw["answerable"]
        except (ValueError, KeyError) as err:
            raise DatasetError(f"{path}:{number}: not a gold line ({err})") from None
        if item_id in seen:
            raise DatasetError(f"{path}:{number}: duplicate id {item_id!r}")
        seen.add(item_id)
        tags = tuple(raw.get("tags", ()))
        if (FOLLOWUP_TAG in tags) != followups:
            continue
        spans: tuple[tuple[int, int], ...] = ()
        doc_id = raw.get("doc_id")
        evidence = raw.get("evidence")
        if answerable:
            text = texts.get(doc_id or "")
            if text is None:
                raise DatasetError(f"{path}:{number}: unknown doc_id {doc_id!r}")
            if not evidence:
                raise DatasetError(f"{path}:{number}: an answerable line needs 'evidence'")
            spans = tuple((m.start(), m.end()) for m in re.finditer(re.escape(evidence), text))
            if not spans:
                raise DatasetError(f"{path}:{number}: evidence not found in {doc_id}: {evidence!r}")
        answer = raw.get("answer")
        previous = raw.get("previous")
        items.append(
            EvalItem(
                id=item_id,
                question=question,
                answerable=bool(answerable),
                doc_id=doc_id,
                spans=spans,
                evidence=evidence,
                answers=(answer,) if answer else (),
                tags=tags,
                split=raw.get("split", "all"),
                extra={"previous": previous} if previous is not None else {},
            )
        )
    return items


def doc_id_for(title: str, used: set[str]) -> str:
    base = re.sub(r"[^A-Za-z0-9._-]+", "_", title).strip("._-")[:100] or "article"
    doc_id, n = base, 1
    while doc_id in used:
        n += 1
        doc_id = f"{base}_{n}"
    used.add(doc_id)
    return doc_id


def load_squad(
    path: Path, *, exclude_contexts: frozenset[str] = frozenset(), per_paragraph: bool = False
) -> tuple[dict[str, str], list[EvalItem]]:
    """Articles (paragraphs joined by blank lines) and questions of a SQuAD-format file.

    Questions whose paragraph is in `exclude_contexts` are left out (their article stays).
    With `per_paragraph`, every paragraph is an article of its own (SQuADShifts Reddit holds
    2,035 unrelated posts under one title).
    """
    try:
        data = json.loads(path.read_text(encoding="utf-8"))["data"]
    except (OSError, ValueError, KeyError) as err:
        raise DatasetError(f"{path}: not a SQuAD-format file ({err})") from None
    texts: dict[str, str] = {}
    items: list[EvalItem] = []
    used: set[str] = set()
    if per_paragraph:
        data = [
            {"title": f"{a.get('title', 'article')}_{n}", "paragraphs": [p]}
            for a in data
            for n, p in enumerate(a["paragraphs"], 1)
        ]
    for article in data:
        doc_id = doc_id_for(article.get("title", "article"), used)
        parts: list[str] = []
        offset = 0
        for paragraph in article["paragraphs"]:
            context = paragraph["context"]
            start = offset
            parts.append(context)
            offset += len(context) + len(PARAGRAPH_JOINER)
            if context in exclude_contexts:
                continue
            for qa in paragraph["qas"]:
                answers = qa.get("answers", [])
                impossible = bool(qa.get("is_impossible", False)) or not answers
                spans = tuple(
                    sorted(
                        {
                            (start + a["answer_start"], start + a["answer_start"] + len(a["text"]))
                            for a in answers
                        }
                    )
                )
                items.append(
                    EvalItem(
                        id=qa["id"],
                        question=qa["question"],
                        answerable=not impossible,
                        doc_id=doc_id,
                        spans=() if impossible else spans,
                        region=(start, start + len(context)),
                        answers=tuple(sorted({a["text"] for a in answers})),
                        tags=("unanswerable",) if impossible else (),
                    )
                )
        texts[doc_id] = PARAGRAPH_JOINER.join(parts)
    return texts, items


def squad_contexts(path: Path) -> frozenset[str]:
    """Every paragraph text of a SQuAD-format file."""
    data = json.loads(path.read_text(encoding="utf-8"))["data"]
    return frozenset(p["context"] for a in data for p in a["paragraphs"])


def sample_evenly(items: Sequence[EvalItem], limit: int | None) -> list[EvalItem]:
    """`limit` items spread evenly over the list (deterministic), or all of them."""
    if not limit or limit >= len(items):
        return list(items)
    step = len(items) / limit
    return [items[int(i * step)] for i in range(limit)]
