"""How errors become responses: every error is JSON `{"error": ..., "detail"?: ...}`.

Invalid input is a 422 that says which field is wrong and why (also for bodies that are not
JSON at all), a client that went away mid-request a 400, an unreachable vector store a 503 to
retry, qa's own errors a request can meet (`STATUS_OF`) their status with their message, and
anything unexpected a 500 whose details go to the log, never to the client.
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.requests import ClientDisconnect

from qa.answer.filters import UnknownArticles
from qa.corpus.documents import ArticleError
from qa.corpus.seeds import TooLarge
from qa.engine.updates import DocIdTaken, IndexUpdateFailed
from qa.index.stores.base import StoreUnavailable

log = logging.getLogger("qa.api")

# qa's own errors that a request can meet, and the status each is answered with; the error's
# message is the response's. Subclasses (e.g. FetchError, an ArticleError) share the status.
STATUS_OF: dict[type[Exception], int] = {
    ArticleError: 422,  # an article that cannot be read, fetched or extracted
    TooLarge: 413,  # an article over QA_MAX_ARTICLE_BYTES
    DocIdTaken: 409,  # POST /documents with a doc_id that exists
    IndexUpdateFailed: 503,  # the seeds folder changed, the index could not follow
    UnknownArticles: 422,  # POST /ask naming a doc_id the index does not have
}


def _validation_message(errors: list[Any]) -> str:
    parts = []
    for err in errors:
        where = ".".join(str(p) for p in err.get("loc", ()) if p != "body") or "body"
        parts.append(f"{where}: {err.get('msg', 'invalid')}")
    return "invalid request: " + "; ".join(parts)


def install_error_handlers(app: FastAPI) -> None:
    """JSON error responses for invalid input, HTTP errors, a lost client or vector store, and
    unexpected failures."""

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

    for kind, status in STATUS_OF.items():
        app.add_exception_handler(kind, _answer_with(status))

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


def _answer_with(status: int) -> Callable[[Request, Exception], Awaitable[JSONResponse]]:
    async def answer(_: Request, exc: Exception) -> JSONResponse:
        return JSONResponse(status_code=status, content={"error": str(exc)})

    return answer


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
