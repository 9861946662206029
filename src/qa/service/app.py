"""The HTTP API: the FastAPI app factory.

`create_app` puts the app's settings, engine and limits on `app.state` (see `qa.service.deps`),
adds the error handlers and middleware, and includes one router per route group
(`qa.service.routes`). Without a ready engine the app still starts at once: the model and
index load in the background (`qa.service.lifespan`).
"""

from __future__ import annotations

from collections.abc import Callable

import anyio
from fastapi import FastAPI
from starlette.types import Scope

import qa
from qa.core.runtime import resolve_threads
from qa.core.settings import Settings, get_settings
from qa.engine.engine import Engine
from qa.engine.feeds import FeedFollower
from qa.service.error_handlers import install_error_handlers
from qa.service.feedback import FeedbackLog
from qa.service.lifespan import lifespan
from qa.service.ops import BodyLimit, InFlight, Metrics, RequestLog
from qa.service.ratelimit import RateLimiter
from qa.service.routes import articles, ask, documents, feeds, health, ops, web

# On SIGTERM, requests still running after this many seconds are cancelled; a write being
# embedded then stops at its next step with nothing changed (see qa.core.cancel), so the server
# stops within a few seconds, never after a long upload has been embedded.
SHUTDOWN_GRACE_SECONDS = 3
# Pages fetched at once (POST/PUT /documents {"url"}); more wait for a turn without a thread.
# Fetches wait on the network, not the cores, and have a limiter of their own: slow pages must
# never take the threads that the probes and the read routes run on.
FETCH_TURNS = 8


def create_app(
    settings: Settings | None = None,
    engine: Engine | None = None,
    *,
    on_load_failure: Callable[[], object] | None = None,
) -> FastAPI:
    """The app; unless given an engine, it loads the model and index (building the index when
    needed) in the background, and calls `on_load_failure` if that fails (e.g. to stop)."""
    settings = settings or get_settings()
    app = FastAPI(
        title="qa",
        summary="Extractive, cited answers from a folder of news articles.",
        version=qa.__version__,
        lifespan=lifespan(settings, engine, on_load_failure),
    )
    app.state.settings = settings
    app.state.engine = engine
    # Questions are CPU-bound: answer at most one per core at once, off the event loop; more
    # would only queue on the cores (and oversubscribe them) instead of here.
    app.state.question_turns = anyio.CapacityLimiter(resolve_threads(settings.threads))
    # One write at a time waits for a thread; the others wait here, without holding any.
    app.state.write_turns = anyio.CapacityLimiter(1)
    app.state.fetch_turns = anyio.CapacityLimiter(FETCH_TURNS)
    app.state.feedback_log = FeedbackLog(settings.feedback_path, settings.feedback_max_bytes)
    app.state.feedback_rate = RateLimiter(settings.feedback_rate)
    # Started by the lifespan once the engine is loaded.
    app.state.feeds = FeedFollower(settings, settings.feeds)
    install_error_handlers(app)
    app.state.metrics = metrics = Metrics(app)
    app.add_middleware(BodyLimit, limit_for=_body_limits(settings), timeout=settings.body_timeout)
    app.state.in_flight = in_flight = InFlight()
    app.add_middleware(RequestLog, metrics=metrics, in_flight=in_flight)
    app.include_router(ops.router)
    app.include_router(web.router)
    app.mount("/static", web.static_files(), name="static")
    for group in (articles, ask, documents, feeds, health):
        app.include_router(group.router)
    return app


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
