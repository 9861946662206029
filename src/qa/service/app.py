"""The HTTP API: FastAPI app factory, routes and error handling.

Without a ready engine the app still starts at once: the model and index load (and the index is
built when needed) in a background thread, /livez answers from the first moment, and /readyz and
every route that needs the index answer 503 until they are loaded.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import AsyncIterator, Callable, Iterable
from contextlib import asynccontextmanager
from dataclasses import asdict
from typing import Any

import anyio
from fastapi import FastAPI, HTTPException, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.requests import ClientDisconnect
from starlette.types import Scope

from qa.answer.filters import ArticleFilter, UnknownArticles
from qa.core.runtime import resolve_threads
from qa.core.settings import Settings, get_settings
from qa.corpus.documents import Document
from qa.index.stores.base import StoreUnavailable
from qa.service.auth import AUTH_ERRORS, Reader
from qa.service.deps import EngineDep
from qa.service.engine import Engine
from qa.service.ops import BodyLimit, Metrics, RequestLog, install_ops
from qa.service.schemas import (
    AnswerSpanOut,
    AskRequest,
    AskResponse,
    CitationOut,
    DocumentOut,
    DocumentSummary,
    ErrorOut,
    Health,
    SentenceOut,
)
from qa.service.web import install_web
from qa.service.writes import install_writes

log = logging.getLogger("qa.api")

# On SIGTERM, requests still running after this many seconds are cancelled; a write being
# embedded then stops at its next step with nothing changed (see qa.core.cancel), so the server
# stops within a few seconds, never after a long upload has been embedded.
SHUTDOWN_GRACE_SECONDS = 3

ERRORS: dict[int | str, dict[str, Any]] = {
    404: {"model": ErrorOut, "description": "Not found"},
    422: {"model": ErrorOut, "description": "Invalid input"},
}
READ_ERRORS: dict[int | str, dict[str, Any]] = {
    **AUTH_ERRORS,
    413: {"model": ErrorOut, "description": "Request body too large"},
    503: {"model": ErrorOut, "description": "The model and index are still loading"},
}


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

    @app.exception_handler(ClientDisconnect)
    async def _gone(request: Request, _: ClientDisconnect) -> JSONResponse:
        return _client_gone(request)

    @app.exception_handler(StarletteHTTPException)
    async def _http(request: Request, exc: StarletteHTTPException) -> JSONResponse:
        cause = exc.__cause__
        if exc.status_code == 400 and isinstance(cause, ClientDisconnect):
            return _client_gone(request)  # FastAPI's body reader wraps it
        if exc.status_code == 400 and exc.detail == _FASTAPI_UNPARSABLE and cause is not None:
            # Bytes that are not UTF-8, nesting too deep for the parser, integers over
            # Python's 4,300 digits: invalid JSON like any other, so 422 with a detail.
            errors = [{"loc": ["body"], "msg": _unparsable(cause), "type": "json_invalid"}]
            return JSONResponse(
                status_code=422,
                content={"error": _validation_message(errors), "detail": errors},
            )
        return JSONResponse(
            status_code=exc.status_code,
            content={"error": str(exc.detail)},
            headers=getattr(exc, "headers", None),
        )

    @app.exception_handler(StoreUnavailable)
    async def _store_down(_: Request, exc: StoreUnavailable) -> JSONResponse:
        # The vector store (a Milvus server) is down or failing: the client may retry later.
        log.warning("vector store unavailable: %s", exc)
        return JSONResponse(
            status_code=503,
            content={"error": "the vector store is unavailable; retry shortly"},
            headers={"Retry-After": "5"},
        )

    @app.exception_handler(Exception)
    async def _unexpected(_: Request, exc: Exception) -> JSONResponse:
        log.exception("unexpected error", exc_info=exc)
        return JSONResponse(
            status_code=500,
            content={"error": "internal error; the server log has the details"},
        )


_FASTAPI_UNPARSABLE = "There was an error parsing the body"


def _unparsable(cause: BaseException) -> str:
    if isinstance(cause, UnicodeDecodeError):
        return f"not valid UTF-8 (byte {cause.start}); send JSON encoded as UTF-8"
    if isinstance(cause, RecursionError):
        return "JSON nested too deeply"
    return f"not valid JSON ({str(cause)[:200]})"


def _client_gone(request: Request) -> JSONResponse:
    # Not a server error: the client went away before sending its whole request.
    log.info("client disconnected during %s %s", request.method, request.url.path)
    return JSONResponse(
        status_code=400, content={"error": "the client disconnected before the request ended"}
    )


def create_app(
    settings: Settings | None = None,
    engine: Engine | None = None,
    *,
    on_load_failure: Callable[[], object] | None = None,
) -> FastAPI:
    """The app; unless given an engine, it loads the model and index (building the index when
    needed) in the background, and calls `on_load_failure` if that fails (e.g. to stop)."""
    settings = settings or get_settings()

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        app.state.engine = engine
        app.state.load_error = None
        stop = threading.Event()
        worker = threading.Thread(
            target=_background,
            args=(app, settings, stop, on_load_failure),
            name="qa-index",
            daemon=True,
        )
        worker.start()
        yield
        stop.set()
        worker.join(timeout=2)

    app = FastAPI(
        title="qa",
        summary="Extractive, cited answers from a folder of news articles.",
        version="0.1.0",
        lifespan=lifespan,
    )
    app.state.settings = settings
    app.state.engine = engine
    _install_error_handlers(app)
    metrics = Metrics(app)
    app.add_middleware(BodyLimit, limit_for=_body_limits(settings))
    app.add_middleware(RequestLog, metrics=metrics)
    install_ops(app, metrics)
    install_web(app, settings, dependencies=[Reader])
    install_writes(app, settings)

    # Questions are CPU-bound: answer at most one per core at once, off the event loop; more
    # would only queue on the cores (and oversubscribe them) instead of here.
    ask_limiter = anyio.CapacityLimiter(resolve_threads(settings.threads))

    @app.post(
        "/ask",
        response_model=AskResponse,
        responses={**ERRORS, **READ_ERRORS},
        dependencies=[Reader],
    )
    async def ask(body: AskRequest, engine: EngineDep) -> AskResponse:
        """Answer a question with a verbatim sentence and its citations, or `answer: null`;
        `doc_ids`, `since` and `until` restrict the articles it may come from."""
        where = ArticleFilter(
            frozenset(body.doc_ids) if body.doc_ids is not None else None, body.since, body.until
        )
        try:
            answer = await anyio.to_thread.run_sync(
                engine.ask, body.question, body.top_k, where, limiter=ask_limiter
            )
        except UnknownArticles as err:
            raise HTTPException(422, str(err)) from None
        return AskResponse(
            question=answer.question,
            answer=answer.text,
            confidence=round(answer.confidence, 4),
            citations=[CitationOut(**asdict(c)) for c in answer.citations],
            answer_span=AnswerSpanOut(**asdict(answer.answer_span)) if answer.answer_span else None,
            took_ms=answer.took_ms,
        )

    @app.get(
        "/documents",
        response_model=list[DocumentSummary],
        responses=READ_ERRORS,
        dependencies=[Reader],
    )
    def documents(engine: EngineDep) -> list[DocumentSummary]:
        """Every indexed article, newest first (unknown dates last, then by title)."""
        return [
            DocumentSummary(**_meta(d), sentences=len(d.sentences))
            for d in newest_first(engine.index.documents)
        ]

    @app.get(
        "/documents/{doc_id}",
        response_model=DocumentOut,
        responses={**ERRORS, **READ_ERRORS},
        dependencies=[Reader],
    )
    def document(doc_id: str, engine: EngineDep) -> DocumentOut:
        """One article's full text and the offsets of its sentences."""
        index = engine.index
        pos = index.doc_pos.get(doc_id)
        if pos is None:
            raise HTTPException(404, f"no article with doc_id {doc_id!r}; see GET /documents")
        doc = index.documents[pos]
        return DocumentOut(
            **_meta(doc),
            text=doc.text,
            sentences=[
                SentenceOut(index=i, start=s.start, end=s.end) for i, s in enumerate(doc.sentences)
            ],
        )

    @app.get("/health", response_model=Health, responses=READ_ERRORS, dependencies=[Reader])
    def health(engine: EngineDep) -> Health:
        """What is being served (503 until ready; /livez and /readyz are the probes)."""
        index = engine.index
        return Health(
            status="ok",
            documents=len(index.documents),
            sentences=index.sentence_count,
            model=index.manifest.model.name,
            index_built_at=index.manifest.built_at,
        )

    return app


def newest_first(documents: Iterable[Document]) -> list[Document]:
    """Articles by publication date, newest first; those without a date last; ties by title."""
    by_title = sorted(documents, key=lambda d: (d.title.casefold(), d.doc_id))
    # A stable sort keeps the title order within a date; "" (unknown) sorts last in reverse.
    return sorted(by_title, key=lambda d: d.published or "", reverse=True)


def _meta(doc: Document) -> dict[str, str | None]:
    return {
        "doc_id": doc.doc_id,
        "title": doc.title,
        "url": doc.url,
        "published": doc.published,
        "source": doc.source,
        "author": doc.author,
    }


def _background(
    app: FastAPI,
    settings: Settings,
    stop: threading.Event,
    on_failure: Callable[[], object] | None,
) -> None:
    """Open the engine (building the index when needed) unless given one, then follow indexes
    that other processes publish (`qa add`, other workers) every `reload_interval` seconds."""
    engine: Engine | None = app.state.engine
    if engine is None:
        log.info("loading the model and index from %s", settings.index_dir)
        try:
            engine, report = Engine.open(settings, log=log.info)
        except Exception as err:  # reported by /readyz and every route that needs the index
            app.state.load_error = str(err)
            log.error("cannot serve questions: %s", err)
            if on_failure is not None:
                on_failure()
            return
        if report.built:
            log.info("index built in %.1f s", report.seconds)
        app.state.engine = engine
        log.info("ready: serving %d articles", len(engine.index.documents))
    interval = settings.reload_interval
    while interval > 0 and not stop.wait(interval):
        try:
            engine.follow(log=log.info)
        except Exception:
            log.exception("could not switch to the published index; still serving the last one")


def _body_limits(settings: Settings) -> Callable[[Scope], tuple[int, str]]:
    # An article travels JSON-escaped or with multipart framing: leave room beyond its own limit.
    upload = 2 * settings.max_article_bytes + 64 * 1024

    def limit_for(scope: Scope) -> tuple[int, str]:
        path: str = scope["path"]
        if scope["method"] in ("POST", "PUT") and (
            path == "/documents" or path.startswith("/documents/")
        ):
            return upload, "an article upload (see QA_MAX_ARTICLE_BYTES)"
        return settings.max_body_bytes, "this route (QA_MAX_BODY_BYTES)"

    return limit_for
