"""The chat page: GET / and its static files (with a strict CSP), GET /config, POST /feedback."""

from __future__ import annotations

import logging
from pathlib import Path
from typing import Any

from fastapi import APIRouter, HTTPException, Request
from fastapi.responses import FileResponse, Response
from fastapi.staticfiles import StaticFiles
from starlette.types import Scope

from qa.service.auth import AUTH_ERRORS, Reader
from qa.service.deps import FeedbackLogDep, SettingsDep
from qa.service.feedback import FeedbackFull, feedback_record
from qa.service.ratelimit import RateLimiter, retry_after
from qa.service.schemas import (
    MAX_QUESTION_CHARS,
    ErrorOut,
    FeedbackOut,
    FeedbackRequest,
    WebConfig,
)

log = logging.getLogger("qa.web")

STATIC_DIR = Path(__file__).resolve().parents[1] / "static"

# Only the page's own files: no inline script or style, no other origin, no framing.
CONTENT_SECURITY_POLICY = (
    "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self'; "
    "connect-src 'self'; base-uri 'none'; form-action 'none'; frame-ancestors 'none'"
)
SECURITY_HEADERS = {
    "Content-Security-Policy": CONTENT_SECURITY_POLICY,
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "no-referrer",
    # Revalidate every time (cheap, with ETags) so a new version of qa is never half-cached.
    "Cache-Control": "no-cache",
}

# Confidence at or above this (and the abstain threshold) is "Likely" on the page. The
# confidence is calibrated (eval/reports/sizes.md, reliability: held-out answers shown with
# 0.8-0.9 are right 0.79 of the time, with 0.9-1.0 0.90), so from here on about four answers
# in five are right; between the threshold and this, the page says "check the source".
HIGH_CONFIDENCE = 0.8

FEEDBACK_ERRORS: dict[int | str, dict[str, Any]] = {
    **AUTH_ERRORS,
    413: {"model": ErrorOut, "description": "Request body too large"},
    422: {"model": ErrorOut, "description": "Invalid input"},
    429: {"model": ErrorOut, "description": "Too many votes from this client (QA_FEEDBACK_RATE)"},
    503: {"model": ErrorOut, "description": "The index is still loading"},
    507: {"model": ErrorOut, "description": "The feedback file is full (QA_FEEDBACK_MAX_BYTES)"},
}


class _SecureStaticFiles(StaticFiles):
    async def get_response(self, path: str, scope: Scope) -> Response:
        response = await super().get_response(path, scope)
        response.headers.update(SECURITY_HEADERS)
        return response


router = APIRouter()


@router.api_route("/", methods=["GET", "HEAD"], include_in_schema=False)
def page() -> FileResponse:
    return FileResponse(STATIC_DIR / "index.html", headers=SECURITY_HEADERS)


@router.get("/config", response_model=WebConfig)
def config(request: Request, settings: SettingsDep) -> WebConfig:
    """What the page needs to word answers: the abstention threshold (the server withholds
    an answer whose confidence is below it; the page then says "The articles don't say"),
    `high_confidence`, the question limit and the earlier turns POST /ask reads.
    The page words `confidence` itself: "Likely answer" from `high_confidence`, "Possible
    answer — check the source" from the threshold up to it, and never shows an answer below
    the threshold.
    """
    engine = getattr(request.app.state, "engine", None)
    threshold = float(
        engine.abstain_threshold
        if engine is not None
        else settings.abstain_threshold
        if settings.abstain_threshold is not None
        else 0.5
    )
    return WebConfig(
        abstain_threshold=threshold,
        high_confidence=max(HIGH_CONFIDENCE, threshold),
        max_question_chars=MAX_QUESTION_CHARS,
    )


@router.post(
    "/feedback",
    status_code=201,
    response_model=FeedbackOut,
    responses=FEEDBACK_ERRORS,
    dependencies=[Reader],
)
def feedback(body: FeedbackRequest, request: Request, feedback_log: FeedbackLogDep) -> FeedbackOut:
    """Record a 👍 / 👎 on an answer in the feedback file (`QA_FEEDBACK_PATH`): at most
    `QA_FEEDBACK_RATE` votes a minute per client (429), and 507 once the file is full."""
    limiter: RateLimiter = request.app.state.feedback_rate
    wait = limiter.take(request.client.host if request.client else "")
    if wait:
        raise HTTPException(
            429,
            "too many votes from this client; try again later (QA_FEEDBACK_RATE)",
            headers={"Retry-After": retry_after(wait)},
        )
    evidence = _cited_sentence(request, body.doc_id, body.sentence_index)
    record = feedback_record(
        question=body.question,
        answer=body.answer,
        doc_id=body.doc_id,
        sentence_index=body.sentence_index,
        evidence=evidence,
        helpful=body.helpful,
    )
    try:
        feedback_log.append(record)
    except FeedbackFull as err:
        log.warning("vote refused: %s", err)
        raise HTTPException(
            507, "the feedback file is full (QA_FEEDBACK_MAX_BYTES); votes are not saved"
        ) from None
    except OSError:
        log.exception("cannot append to %s", feedback_log.path)
        raise HTTPException(
            500, "the feedback could not be saved; the server log has the details"
        ) from None
    return FeedbackOut(saved=True)


def static_files() -> StaticFiles:
    """The page's files, for `app.mount("/static", ...)`, with the page's security headers."""
    return _SecureStaticFiles(directory=STATIC_DIR)


def _cited_sentence(request: Request, doc_id: str | None, sentence_index: int | None) -> str | None:
    """The text of the cited sentence, checked against the index being served."""
    if doc_id is None or sentence_index is None:
        return None
    engine = getattr(request.app.state, "engine", None)
    if engine is None:
        raise HTTPException(503, "the index is still loading; try again in a few seconds")
    index = engine.index
    pos = index.doc_pos.get(doc_id)
    if pos is None:
        raise HTTPException(422, f"no article with doc_id {doc_id!r}; see GET /documents")
    doc = index.documents[pos]
    if sentence_index >= len(doc.sentences):
        raise HTTPException(
            422, f"article {doc_id!r} has {len(doc.sentences)} sentences, no {sentence_index}"
        )
    span = doc.sentences[sentence_index]
    text: str = doc.text[span.start : span.end]
    return text
