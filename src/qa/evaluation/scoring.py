"""Judging one question: is a cited span right, and what happened to the question."""

from __future__ import annotations

import time

from qa.engine.engine import Engine
from qa.evaluation.datasets import EvalItem
from qa.evaluation.metrics import Outcome


def _overlaps(a: tuple[int, int], b: tuple[int, int]) -> bool:
    return a[0] < b[1] and b[0] < a[1]


def is_hit(item: EvalItem, doc_id: str, span: tuple[int, int]) -> bool:
    """Does a cited span answer `item`?

    Gold items: the span contains the evidence. SQuAD items: the span lies in the question's
    paragraph and overlaps a gold answer span.
    """
    if not item.answerable or doc_id != item.doc_id:
        return False
    if item.region is not None and not (item.region[0] <= span[0] and span[1] <= item.region[1]):
        return False
    if item.evidence is not None:
        return any(span[0] <= s and e <= span[1] for s, e in item.spans)
    return any(_overlaps(span, s) for s in item.spans)


def score_item(item: EvalItem, engine: Engine, texts: dict[str, str], top_k: int) -> Outcome:
    """Ask one question and judge the response."""
    answerer = engine.state.answerer
    started = time.perf_counter()
    answer, candidates = answerer.ask_detailed(item.question, top_k)
    latency = (time.perf_counter() - started) * 1000
    index = engine.index
    rank = None
    hits: list[bool] = []
    for position, cand in enumerate(candidates, 1):
        doc, span, _ = index.span(cand.row)
        hit = is_hit(item, doc.doc_id, (span.start, span.end))
        hits.append(hit)
        if hit and rank is None:
            rank = position
    answered = answer.text is not None
    lead = answer.citations[0] if answer.citations else None
    answer_correct = bool(
        answered and lead is not None and is_hit(item, lead.doc_id, (lead.start, lead.end))
    )
    short_ok = (
        (answered and any(a in (answer.text or "") for a in item.answers)) if item.answers else None
    )
    valid = sum(texts.get(c.doc_id, "")[c.start : c.end] == c.text for c in answer.citations)
    dense_hit, lexical_hit = _retriever_hits(item, engine) if item.answerable else (None, None)
    # The short answer, scored end to end: over answered questions that have gold short answers,
    # whether a span was given, and its SQuAD token F1 (0 when the sentence itself is wrong).
    span_given: bool | None = None
    span_f1: float | None = None
    if item.answerable and answered and item.answers:
        span_given = answer.answer_span is not None
        if answer.answer_span is not None:
            from qa.evaluation.span_metrics import token_f1

            span_f1 = token_f1(answer.answer_span.text, item.answers)
    return Outcome(
        id=item.id,
        question=item.question,
        answerable=item.answerable,
        split=item.split,
        tags=item.tags,
        rank=rank,
        answered=answered,
        answer=answer.text,
        answer_correct=answer_correct,
        top_correct=bool(hits and hits[0]),
        short_answer_ok=short_ok if item.answerable else None,
        confidence=answer.confidence,
        citations=len(answer.citations),
        citations_valid=valid,
        latency_ms=round(latency, 3),
        expected=item.evidence or (item.answers[0] if item.answers else None),
        dense_hit=dense_hit,
        lexical_hit=lexical_hit,
        span_given=span_given,
        span_f1=span_f1,
    )


def _retriever_hits(item: EvalItem, engine: Engine) -> tuple[bool, bool]:
    """Does dense search alone, and BM25 alone, return a right sentence among its own top
    `candidates`? Measured apart from the answer, so a broken index shows even when the other
    retriever makes up for it."""
    from qa.answer.retrieval import _top
    from qa.index.lexical import tokenize

    index = engine.index
    n = engine.settings.candidates
    q = engine.embedder.encode([item.question])[0]
    _, rows = index.sentence_store.search(q[None, :], n)
    dense = [int(r) for r in rows[0] if r >= 0]
    lexical = _top(index.lexical.scores(tokenize([item.question])[0]), n)

    def any_hit(found: list[int]) -> bool:
        for row in found:
            doc, span, _ = index.span(row)
            if is_hit(item, doc.doc_id, (span.start, span.end)):
                return True
        return False

    return any_hit(dense), any_hit(lexical)
