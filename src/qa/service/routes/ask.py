"""POST /ask: a question answered with a verbatim sentence and its citations."""

from __future__ import annotations

import anyio
from fastapi import APIRouter

from qa.answer.filters import ArticleFilter
from qa.service.auth import Reader
from qa.service.deps import EngineDep, QuestionTurns
from qa.service.routes.responses import ERRORS, READ_ERRORS
from qa.service.schemas import AnswerSpanOut, AskRequest, AskResponse, CitationOut

router = APIRouter()


@router.post(
    "/ask",
    response_model=AskResponse,
    responses={**ERRORS, **READ_ERRORS},
    dependencies=[Reader],
)
async def ask(body: AskRequest, engine: EngineDep, turns: QuestionTurns) -> AskResponse:
    """Answer a question with a verbatim sentence and its citations, or `answer: null`;
    `doc_ids`, `since` and `until` restrict the articles it may come from."""
    where = ArticleFilter(
        frozenset(body.doc_ids) if body.doc_ids is not None else None, body.since, body.until
    )
    # CPU-bound: off the event loop, in at most one thread per core (see create_app). A doc_id
    # the index does not have (UnknownArticles) is a 422 (qa.service.error_handlers).
    answer = await anyio.to_thread.run_sync(
        engine.ask, body.question, body.top_k, where, limiter=turns
    )
    return AskResponse(
        question=answer.question,
        answer=answer.text,
        confidence=round(answer.confidence, 4),
        # Read by attribute: dataclasses.asdict deep-copies every field on the way.
        citations=[CitationOut.model_validate(c, from_attributes=True) for c in answer.citations],
        answer_span=(
            AnswerSpanOut.model_validate(answer.answer_span, from_attributes=True)
            if answer.answer_span
            else None
        ),
        took_ms=answer.took_ms,
    )
