"""`qa serve`: the HTTP API, in one process or in several workers."""

from __future__ import annotations

import json
import logging
from typing import TYPE_CHECKING, Annotated

import typer

from qa.cli.common import IndexOpt, SeedsOpt, command_settings, err, summary_line

if TYPE_CHECKING:
    from qa.core.settings import Settings


def serve(
    seeds: SeedsOpt = None,
    index: IndexOpt = None,
    host: Annotated[str | None, typer.Option(help="Address to bind [env QA_HOST].")] = None,
    port: Annotated[int | None, typer.Option(help="Port to bind [env QA_PORT].")] = None,
    workers: Annotated[
        int | None,
        typer.Option(min=1, max=64, help="Server processes sharing one index [env QA_WORKERS]."),
    ] = None,
    feed: Annotated[
        list[str] | None,
        typer.Option(
            "--feed",
            help="An RSS or Atom feed to follow: polled every QA_FEED_INTERVAL seconds, its new "
            "articles stored (repeatable; replaces QA_FEEDS).",
            show_default=False,
        ),
    ] = None,
) -> None:
    """Serve the HTTP API (building the index first when it is missing or stale)."""
    from qa.core.runtime import limit_threads, resolve_threads

    settings = command_settings(
        seeds, index, host=host, port=port, workers=workers, feeds=feed or None
    )
    # Before NumPy loads: its BLAS pool is sized once, from the environment (workers inherit it).
    limit_threads(resolve_threads(settings.threads, settings.workers))

    import uvicorn

    from qa.service.app import SHUTDOWN_GRACE_SECONDS, create_app
    from qa.service.http_errors import HTTP_PROTOCOL

    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s %(message)s")
    if settings.workers > 1:
        serve_workers(settings)
        return
    if not settings.seeds_dir.is_dir():
        err(f"error: seeds folder {settings.seeds_dir} does not exist")
        raise typer.Exit(2)
    # The model and index load in the background (building the index when needed), so /livez
    # answers at once and /readyz says when questions can be asked.
    err(
        f"serving on http://{settings.host}:{settings.port}; loading the model and index "
        f"(building the index from {settings.seeds_dir} when needed); /readyz says when ready"
    )
    app = create_app(settings, on_load_failure=lambda: setattr(server, "should_exit", True))
    server = uvicorn.Server(
        uvicorn.Config(
            app,
            host=settings.host,
            port=settings.port,
            access_log=False,
            timeout_graceful_shutdown=SHUTDOWN_GRACE_SECONDS,
            http=HTTP_PROTOCOL,
        )
    )
    server.run()
    if app.state.load_error:
        err(f"error: {app.state.load_error}")
        raise typer.Exit(2)


def serve_workers(settings: Settings) -> None:
    """Build the index once here, then run `settings.workers` processes that each load it.

    The workers are fresh interpreters started by uvicorn; they read their settings from QA_*
    variables, so this process's settings are written there (each worker's thread budget being
    its share of the cores). The FAISS stores are memory-mapped, so the workers share one copy
    of the vectors in the page cache.
    """
    import os

    import uvicorn

    from qa.core.runtime import resolve_threads
    from qa.embed.loader import ModelLoader
    from qa.embed.model import ModelError
    from qa.engine.startup import prepare_index
    from qa.index.errors import IndexUnavailable

    try:
        built, report = prepare_index(settings, ModelLoader(settings), log=err)
    except (ModelError, IndexUnavailable, FileNotFoundError) as error:
        err(f"error: {error}")
        raise typer.Exit(2) from None
    if report.built:
        err(summary_line(built, report.seconds))
    del built
    share = resolve_threads(settings.threads, settings.workers)
    for name, value in settings.model_dump(mode="json").items():
        if value is not None:
            text = value if isinstance(value, str) else json.dumps(value)
            os.environ[f"QA_{name.upper()}"] = text
    os.environ["QA_THREADS"] = str(share)
    err(
        f"serving on http://{settings.host}:{settings.port} with {settings.workers} workers "
        f"of {share} thread(s) each"
    )
    from qa.service.app import SHUTDOWN_GRACE_SECONDS
    from qa.service.http_errors import HTTP_PROTOCOL

    uvicorn.run(
        "qa.service.app:create_app",
        factory=True,
        host=settings.host,
        port=settings.port,
        workers=settings.workers,
        timeout_graceful_shutdown=SHUTDOWN_GRACE_SECONDS,
        http=HTTP_PROTOCOL,
    )
