"""POST /ask: a question answered with a verbatim sentence and its citations."""

from __future__ import annotations

import anyio
from fastapi import APIRouter

from qa.service.auth import Reader
from qa.service.deps import EngineDep, QuestionTurns
from qa.service.routes.responses import ERRORS, READ_ERRORS
from qa.service.schemas import AskRequest, AskResponse

router = APIRouter()


@router.post(
    "/ask",
    response_model=AskResponse,
    responses={**ERRORS, **READ_ERRORS},
    dependencies=[Reader],
)
async def ask(body: AskRequest, engine: EngineDep, turns: QuestionTurns) -> AskResponse:
    """Answer a question with a verbatim sentence and its citations, or `answer: null`;
    `doc_ids`, `since` and `until` restrict the articles it may come from; `history` lets a
    follow-up lean on the previous turns (`interpreted_as` says how it was read)."""
    # CPU-bound: off the event loop, in at most one thread per core (see create_app). A doc_id
    # the index does not have (UnknownArticles) is a 422 (qa.service.error_handlers).
    answer = await anyio.to_thread.run_sync(
        engine.ask, body.question, body.top_k, body.article_filter(), body.turns(), limiter=turns
    )
    return AskResponse.of(answer)
