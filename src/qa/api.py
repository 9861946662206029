"""The HTTP API: FastAPI app factory, routes and error handling."""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import asdict
from typing import Annotated, Any

from fastapi import Depends, FastAPI, HTTPException, Request
from fastapi.concurrency import run_in_threadpool
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from starlette.exceptions import HTTPException as StarletteHTTPException

from qa.config import Settings, get_settings
from qa.engine import Engine
from qa.schemas import (
    AskRequest,
    AskResponse,
    CitationOut,
    DocumentOut,
    DocumentSummary,
    ErrorOut,
    Health,
    SentenceOut,
)

log = logging.getLogger("qa.api")

ERRORS: dict[int | str, dict[str, Any]] = {
    404: {"model": ErrorOut, "description": "Not found"},
    422: {"model": ErrorOut, "description": "Invalid input"},
}


def get_engine(request: Request) -> Engine:
    engine: Engine | None = getattr(request.app.state, "engine", None)
    if engine is None:
        raise HTTPException(503, "the index is still loading; try again in a few seconds")
    return engine


EngineDep = Annotated[Engine, Depends(get_engine)]


def _validation_message(errors: list[Any]) -> str:
    parts = []
    for err in errors:
        where = ".".join(str(p) for p in err.get("loc", ()) if p != "body") or "body"
        parts.append(f"{where}: {err.get('msg', 'invalid')}")
    return "invalid request: " + "; ".join(parts)


def _install_error_handlers(app: FastAPI) -> None:
    @app.exception_handler(RequestValidationError)
    async def _invalid(_: Request, exc: RequestValidationError) -> JSONResponse:
        errors = [{k: v for k, v in e.items() if k in ("loc", "msg", "type")} for e in exc.errors()]
        return JSONResponse(
            status_code=422, content={"error": _validation_message(errors), "detail": errors}
        )

    @app.exception_handler(StarletteHTTPException)
    async def _http(_: Request, exc: StarletteHTTPException) -> JSONResponse:
        return JSONResponse(
            status_code=exc.status_code,
            content={"error": str(exc.detail)},
            headers=getattr(exc, "headers", None),
        )

    @app.exception_handler(Exception)
    async def _unexpected(_: Request, exc: Exception) -> JSONResponse:
        log.exception("unexpected error", exc_info=exc)
        return JSONResponse(
            status_code=500,
            content={"error": "internal error; the server log has the details"},
        )


def create_app(settings: Settings | None = None, engine: Engine | None = None) -> FastAPI:
    """The app; it loads (and if needed builds) the index at start-up unless given an engine."""
    settings = settings or get_settings()

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        if engine is not None:
            app.state.engine = engine
        else:
            opened, report = await run_in_threadpool(Engine.open, settings, log=log.info)
            if report.built:
                log.info("index built in %.1f s", report.seconds)
            app.state.engine = opened
        yield

    app = FastAPI(
        title="qa",
        summary="Extractive, cited answers from a folder of news articles.",
        version="0.1.0",
        lifespan=lifespan,
    )
    _install_error_handlers(app)

    @app.post("/ask", response_model=AskResponse, responses=ERRORS)
    def ask(body: AskRequest, engine: EngineDep) -> AskResponse:
        """Answer a question with a verbatim sentence and its citations, or `answer: null`."""
        answer = engine.ask(body.question, body.top_k)
        return AskResponse(
            question=answer.question,
            answer=answer.text,
            confidence=round(answer.confidence, 4),
            citations=[CitationOut(**asdict(c)) for c in answer.citations],
            took_ms=answer.took_ms,
        )

    @app.get("/documents", response_model=list[DocumentSummary])
    def documents(engine: EngineDep) -> list[DocumentSummary]:
        """Every indexed article."""
        return [
            DocumentSummary(doc_id=d.doc_id, title=d.title, sentences=len(d.sentences))
            for d in engine.index.documents
        ]

    @app.get("/documents/{doc_id}", response_model=DocumentOut, responses=ERRORS)
    def document(doc_id: str, engine: EngineDep) -> DocumentOut:
        """One article's full text and the offsets of its sentences."""
        index = engine.index
        pos = index.doc_pos.get(doc_id)
        if pos is None:
            raise HTTPException(404, f"no article with doc_id {doc_id!r}; see GET /documents")
        doc = index.documents[pos]
        return DocumentOut(
            doc_id=doc.doc_id,
            title=doc.title,
            text=doc.text,
            sentences=[
                SentenceOut(index=i, start=s.start, end=s.end) for i, s in enumerate(doc.sentences)
            ],
        )

    @app.get("/health", response_model=Health)
    def health(engine: EngineDep) -> Health:
        """Liveness plus what is being served."""
        index = engine.index
        return Health(
            status="ok",
            documents=len(index.documents),
            sentences=index.sentence_count,
            model=index.manifest["model"]["name"],
            index_built_at=index.manifest["built_at"],
        )

    return app
