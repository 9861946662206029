"""The routes that change the articles: POST, PUT and DELETE /documents, behind QA_API_TOKEN.

A body is JSON (`{"doc_id"?, "title"?, "text"}`, or `{"doc_id"?, "url"}` for a news page the
server fetches) or a multipart upload of one `.txt` / `.md` / `.html` file in the field `file`. A
write returns once the article is durable in the seeds folder and the index answering from it is
being served; a page that cannot be fetched or read leaves nothing behind.
"""

from __future__ import annotations

import asyncio
import logging
import threading
from collections.abc import Callable
from typing import TYPE_CHECKING, Annotated, Any, TypeVar

import anyio
from fastapi import APIRouter, HTTPException, Path, Request, Response
from fastapi.exceptions import RequestValidationError
from pydantic import ValidationError
from starlette.datastructures import UploadFile

from qa.core.cancel import Abandoned, abandon_when
from qa.core.settings import Settings
from qa.corpus.documents import DOC_ID_PATTERN
from qa.corpus.ingest import article_from_url, limits, same_article
from qa.corpus.seeds import ArticleFile, article_from_file, article_from_text
from qa.engine.updates import WriteOutcome
from qa.service.auth import AUTH_ERRORS, Writer
from qa.service.deps import EngineDep, SettingsDep, WriteTurns, fetch_turns
from qa.service.ops_schemas import ArticleIn, ArticleStored, NewArticle
from qa.service.schemas import ErrorOut, article_meta

if TYPE_CHECKING:
    from qa.engine.engine import Engine

T = TypeVar("T")
log = logging.getLogger("qa.writes")

_ERRORS: dict[int | str, dict[str, Any]] = {
    400: {"model": ErrorOut, "description": "Malformed multipart body"},
    **AUTH_ERRORS,
    413: {"model": ErrorOut, "description": "Article or request body too large"},
    415: {"model": ErrorOut, "description": "Body is neither JSON nor a multipart upload"},
    422: {"model": ErrorOut, "description": "Invalid article, doc_id or body"},
    503: {"model": ErrorOut, "description": "Not ready, or the index could not be updated"},
}
_UPLOAD_SCHEMA = {
    "type": "object",
    "properties": {
        "file": {
            "type": "string",
            "format": "binary",
            "description": "One .txt or .md file, or an .html news page.",
        },
    },
    "required": ["file"],
    "additionalProperties": False,
}


def _body(model: type[ArticleIn]) -> dict[str, Any]:
    return {
        "requestBody": {
            "required": True,
            "content": {
                "application/json": {"schema": model.model_json_schema()},
                "multipart/form-data": {"schema": _UPLOAD_SCHEMA},
            },
        }
    }


DocId = Annotated[
    str, Path(pattern=DOC_ID_PATTERN, description="The article's id (its file name's stem).")
]


router = APIRouter(tags=["documents"], dependencies=[Writer])


@router.post(
    "/documents",
    status_code=201,
    response_model=ArticleStored,
    responses={409: {"model": ErrorOut, "description": "doc_id exists"}, **_ERRORS},
    openapi_extra=_body(NewArticle),
)
async def add_document(
    request: Request, engine: EngineDep, settings: SettingsDep, turns: WriteTurns
) -> ArticleStored:
    """Add an article; 409 if its doc_id exists (PUT replaces) or, for a page, if an
    article with the same canonical URL or text is stored under another doc_id."""
    article = await _read_article(request, settings, None)
    await _refuse_twin(engine, article)
    fresh = await _run(request, None, engine.embed, [article])
    (outcome,) = await _run(
        request, turns, lambda: engine.write([article], create_only=True, fresh=fresh)
    )
    return _stored(outcome, article)


@router.put(
    "/documents/{doc_id}",
    response_model=ArticleStored,
    responses={
        201: {"model": ArticleStored, "description": "Created"},
        409: {"model": ErrorOut, "description": "The page is stored under another doc_id"},
        **_ERRORS,
    },
    openapi_extra=_body(ArticleIn),
)
async def replace_document(
    doc_id: DocId,
    request: Request,
    response: Response,
    engine: EngineDep,
    settings: SettingsDep,
    turns: WriteTurns,
) -> ArticleStored:
    """Replace an article (or create it: 201); 409 for a page whose canonical URL or text is
    stored under another doc_id."""
    article = await _read_article(request, settings, doc_id)
    await _refuse_twin(engine, article)
    fresh = await _run(request, None, engine.embed, [article])
    (outcome,) = await _run(request, turns, lambda: engine.write([article], fresh=fresh))
    response.status_code = 201 if outcome.change == "created" else 200
    return _stored(outcome, article)


@router.delete(
    "/documents/{doc_id}",
    status_code=204,
    response_class=Response,
    responses={404: {"model": ErrorOut, "description": "No such article"}, **_ERRORS},
)
async def delete_document(
    doc_id: DocId, request: Request, engine: EngineDep, turns: WriteTurns
) -> Response:
    """Delete an article from the seeds folder and the index."""
    (outcome,) = await _run(request, turns, engine.remove, [doc_id])
    if outcome.change == "missing":
        raise HTTPException(404, f"no article with doc_id {doc_id!r}; see GET /documents")
    return Response(status_code=204)


async def _refuse_twin(engine: Engine, article: ArticleFile) -> None:
    """409 when `article` is a page (it has a URL) stored already under another doc_id."""
    url = article.document.url
    if url is None:
        return
    # Off the event loop: a URL normalisation and a text hash per stored article.
    twin = await anyio.to_thread.run_sync(same_article, engine.index.documents, article.document)
    if twin is not None:
        raise HTTPException(
            409,
            f"{url!r} is already stored as doc_id {twin!r}; PUT /documents/{twin} replaces it",
        )


async def _read_article(request: Request, settings: Settings, doc_id: str | None) -> ArticleFile:
    """The article in the request's body: JSON text or URL, or a multipart file upload."""
    kind = request.headers.get("content-type", "").split(";")[0].strip().lower()
    if kind == "application/json":
        return await _from_json(request, settings, doc_id)
    if kind == "multipart/form-data":
        return await _from_upload(request, settings, doc_id)
    raise HTTPException(
        415,
        'send the article as application/json {"text": ...} or as multipart/form-data '
        'with the file in the field "file"',
    )


async def _from_json(request: Request, settings: Settings, doc_id: str | None) -> ArticleFile:
    max_bytes = settings.max_article_bytes
    model = ArticleIn if doc_id else NewArticle
    try:
        body = model.model_validate_json(await request.body())
    except ValidationError as err:
        errors = [{**e, "loc": ("body", *e["loc"])} for e in err.errors()]
        raise RequestValidationError(errors) from None
    given = doc_id or getattr(body, "doc_id", None)
    if body.url is not None:
        url = body.url
        return await _run(
            request,
            await fetch_turns(request),  # a fetch's turn, never a read route's thread
            lambda: article_from_url(url, limits(settings), doc_id=given, max_bytes=max_bytes),
        )
    text = body.text or ""
    return await _run(
        request,
        None,
        lambda: article_from_text(text, doc_id=given, title=body.title, max_bytes=max_bytes),
    )


async def _from_upload(request: Request, settings: Settings, doc_id: str | None) -> ArticleFile:
    max_bytes = settings.max_article_bytes
    form = await request.form(max_files=1, max_fields=16)
    extra = sorted(set(form.keys()) - {"file"})
    if extra:
        raise HTTPException(
            422, f'unexpected form fields {extra[:5]}; send only the file, as "file"'
        )
    upload = form.get("file")
    if not isinstance(upload, UploadFile) or not upload.filename:
        raise HTTPException(
            422, 'a multipart upload needs one file, with its name, in the field "file"'
        )
    data = await upload.read(max_bytes + 1)
    name = upload.filename
    return await _run(
        request,
        None,
        lambda: article_from_file(name, data, doc_id=doc_id, max_bytes=max_bytes),
    )


async def _run(
    request: Request,
    turns: anyio.CapacityLimiter | None,
    function: Callable[..., T],
    *args: Any,
) -> T:
    """`function(*args)` off the event loop (waiting for a turn in `turns` when given); qa's
    own errors become responses in `qa.service.error_handlers`, a write's others here."""
    try:
        return await _abandonable(request, function, args, turns)
    except Abandoned as err:
        why = "the server is stopping" if isinstance(err, _Stopping) else "the client disconnected"
        log.info("%s; write abandoned with nothing changed", why)
        raise HTTPException(400, f"{why}; nothing was changed") from None
    except OSError as err:  # the seeds folder: full disk, permissions
        raise HTTPException(
            503, f"the seeds folder could not be changed ({err.strerror or err}); try again"
        ) from None


async def _abandonable(
    request: Request,
    function: Callable[..., T],
    args: tuple[Any, ...],
    limiter: anyio.CapacityLimiter | None,
) -> T:
    """`function(*args)` in a worker thread, given up at its next `qa.core.cancel.checkpoint()` once
    the client disconnects or this request is cancelled (a server stopping cancels the requests
    still running after its grace period); a cancelled request waits for the thread to stop, so
    nothing runs on behind its answer, and then raises `Abandoned` (unless the work was done)."""
    gone = threading.Event()

    async def watch() -> None:
        try:
            while (await request.receive())["type"] != "http.disconnect":
                pass
        finally:
            gone.set()

    failure: Exception | None = None
    async with anyio.create_task_group() as watcher:
        watcher.start_soon(watch)
        try:
            with abandon_when(gone.is_set):
                work = asyncio.ensure_future(
                    anyio.to_thread.run_sync(function, *args, limiter=limiter)
                )
            try:
                result = await asyncio.shield(work)
            except asyncio.CancelledError:
                # uvicorn cancels the task itself, which no anyio shield holds back.
                gone.set()
                _uncancel()
                with anyio.CancelScope(shield=True):
                    try:
                        result = await work
                    except Abandoned:
                        raise _Stopping("the server is stopping") from None
        except Exception as err:  # raised below, not wrapped in the task group's ExceptionGroup
            failure = err
        finally:
            watcher.cancel_scope.cancel()
    if failure is not None:
        raise failure
    return result


class _Stopping(Abandoned):
    """Work abandoned because the server stops (it cancelled the request)."""


def _uncancel() -> None:
    # The cancellation was taken in hand (the work stops, the request answers 400): left
    # counted, it would cancel the next anyio scope the request enters.
    task = asyncio.current_task()
    if task is not None:
        task.uncancel()


def _stored(outcome: WriteOutcome, article: ArticleFile) -> ArticleStored:
    doc = article.document
    return ArticleStored(
        **article_meta(doc),
        sentences=len(doc.sentences),
        sha256=doc.sha256,
        change="created"
        if outcome.change == "created"
        else "unchanged"
        if outcome.change == "unchanged"
        else "replaced",
    )
