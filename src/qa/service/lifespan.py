"""The app's lifespan: the engine loads in a background thread, then follows new indexes.

The app starts at once: /livez answers from the first moment, while the model and index load
(and the index is built when needed); /readyz and every route that needs the index answer 503
until they are loaded. Then, every `reload_interval` seconds, the engine switches to an index
another process published (`qa add`, other workers), and the feeds it follows (QA_FEEDS) are
polled in a thread of their own (`qa.engine.feeds`), stopped at shutdown.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import AsyncIterator, Callable
from contextlib import AbstractAsyncContextManager, asynccontextmanager

from fastapi import FastAPI

from qa.core.settings import Settings
from qa.engine.engine import Engine

log = logging.getLogger("qa.api")

DRAIN_SECONDS = 2.0


def lifespan(
    settings: Settings,
    engine: Engine | None,
    on_load_failure: Callable[[], object] | None,
) -> Callable[[FastAPI], AbstractAsyncContextManager[None]]:
    """The lifespan of an app serving `engine`, or one loaded from `settings` in the background;
    `on_load_failure` is called if loading fails (e.g. to stop the server)."""

    @asynccontextmanager
    async def run(app: FastAPI) -> AsyncIterator[None]:
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
        app.state.feeds.stop()
        # Requests cancelled by a server stopping end within moments (their work stops at its
        # next step): wait for them, so that each is answered and logged before the process
        # exits (uvicorn does not wait for the tasks it cancelled).
        await app.state.in_flight.drained(DRAIN_SECONDS)
        worker.join(timeout=2)

    return run


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
    if not stop.is_set():
        app.state.feeds.start(engine)
    interval = settings.reload_interval
    while interval > 0 and not stop.wait(interval):
        try:
            engine.follow(log=log.info)
        except Exception:
            log.exception("could not switch to the published index; still serving the last one")
