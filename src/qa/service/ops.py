"""Operations middleware: request ids and logs, Prometheus metrics, body size and time limits.

Both middlewares are plain ASGI (no buffering of bodies or responses). Every request gets a
request id (the caller's `X-Request-ID` when it is sane, else a new one), echoed in the response
header and written with method, path, route, status and duration as one JSON log line. The
probes and GET /metrics are in `qa.service.routes.ops`.
"""

from __future__ import annotations

import json
import logging
import os
import re
import time
import uuid
from collections.abc import Callable, Iterator

import anyio
from fastapi import FastAPI, HTTPException
from prometheus_client import (
    CollectorRegistry,
    Counter,
    Histogram,
    Info,
    PlatformCollector,
    ProcessCollector,
    disable_created_metrics,
)
from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily, Metric
from starlette.routing import Match
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from qa.core.errors import QAError

access_log = logging.getLogger("qa.access")

_REQUEST_ID = re.compile(r"[A-Za-z0-9._:-]{1,128}")
# Seconds; /ask takes milliseconds to a second, a write up to seconds.
_BUCKETS = (0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0)


class BodyTooLarge(QAError, HTTPException):
    """A request body over its limit; an HTTPException so FastAPI's body reader passes it on."""

    def __init__(self, limit: int, what: str) -> None:
        # Closing the connection spares reading (and discarding) the rest of the body.
        super().__init__(
            413,
            f"request body is over {limit:,} bytes, the limit for {what}",
            headers={"Connection": "close"},
        )


class BodyTimedOut(QAError, HTTPException):
    """A request body not received in time (a client that stalls, or drips, holds a connection
    and a task for as long as it likes otherwise)."""

    def __init__(self, seconds: float) -> None:
        super().__init__(
            408,
            f"the request body was not received within {seconds:g} s (QA_BODY_TIMEOUT)",
            headers={"Connection": "close"},
        )


class BodyLimit:
    """413 for a body over the limit `limit_for(scope)` gives: by Content-Length when the route
    first reads the body (without reading any of it), and by counting the bytes as they arrive
    (chunked uploads have no Content-Length); 408 for a body not received in full within
    `timeout` seconds of the request's start."""

    def __init__(
        self, app: ASGIApp, limit_for: Callable[[Scope], tuple[int, str]], timeout: float
    ) -> None:
        self.app = app
        self.limit_for = limit_for
        self.timeout = timeout

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        limit, what = self.limit_for(scope)
        length = _header(scope, b"content-length")
        refuse = length is not None and length.isdigit() and int(length) > limit
        seen = 0
        started = False
        ended = False  # the whole body is in; later receives wait for a disconnect, unbounded
        deadline = anyio.current_time() + self.timeout

        async def limited_receive() -> Message:
            nonlocal seen, ended
            if refuse:  # by Content-Length: not one byte is read. The request still goes
                raise BodyTooLarge(limit, what)  # through routing, so it is logged by route.
            if ended:
                return await receive()
            with anyio.move_on_after(deadline - anyio.current_time()):
                message = await receive()
                ended = message["type"] != "http.request" or not message.get("more_body")
                if message["type"] == "http.request":
                    seen += len(message.get("body", b""))
                    if seen > limit:
                        raise BodyTooLarge(limit, what)
                return message
            raise BodyTimedOut(self.timeout)

        async def tracking_send(message: Message) -> None:
            nonlocal started
            started = started or message["type"] == "http.response.start"
            await send(message)

        try:
            await self.app(scope, limited_receive, tracking_send)
        except (BodyTooLarge, BodyTimedOut) as err:  # raised outside a route's error handling
            if started:
                raise
            await _error(send, err)


async def _error(send: Send, err: HTTPException) -> None:
    body = json.dumps({"error": err.detail}).encode()
    await send(
        {
            "type": "http.response.start",
            "status": err.status_code,
            "headers": [
                (b"content-type", b"application/json"),
                (b"content-length", str(len(body)).encode()),
                (b"connection", b"close"),
            ],
        }
    )
    await send({"type": "http.response.body", "body": body})


def _header(scope: Scope, name: bytes) -> str | None:
    for key, value in scope.get("headers", ()):
        if key.lower() == name:
            return str(value.decode("latin-1"))
    return None


class Metrics:
    """The app's Prometheus registry: requests, latency, the index being served, the process."""

    def __init__(self, app: FastAPI) -> None:
        disable_created_metrics()  # type: ignore[no-untyped-call]  # *_created: clutter
        self.app = app
        self.registry = CollectorRegistry()
        self.requests = Counter(
            "qa_http_requests",
            "HTTP requests by method, route and status.",
            ["method", "route", "status"],
            registry=self.registry,
        )
        self.latency = Histogram(
            "qa_http_request_duration_seconds",
            "Time from request to the end of the response, by method and route.",
            ["method", "route"],
            buckets=_BUCKETS,
            registry=self.registry,
        )
        self.registry.register(_IndexCollector(app))
        self.registry.register(_FeedCollector(app))
        # With QA_WORKERS > 1 each scrape reaches one process: say which, so figures can be told
        # apart (a counter that seems to go backwards came from another worker).
        Info(
            "qa_worker", "The server process that answered this scrape.", registry=self.registry
        ).info({"pid": str(os.getpid())})
        ProcessCollector(registry=self.registry)
        PlatformCollector(registry=self.registry)

    def route_of(self, scope: Scope) -> str:
        """The route's path template (bounded label values), also for requests refused before
        routing (e.g. 413); "unmatched" for paths no route serves."""
        route = scope.get("route")
        if route is None:
            route = next(
                (r for r in self.app.router.routes if r.matches(scope)[0] is Match.FULL), None
            )
        return str(getattr(route, "path", "unmatched"))


class _IndexCollector:
    """Reads the served index at scrape time, so the figures are never stale."""

    def __init__(self, app: FastAPI) -> None:
        self.app = app

    def describe(self) -> list[Metric]:
        return []

    def collect(self) -> Iterator[Metric]:
        engine = getattr(self.app.state, "engine", None)
        ready = 0 if engine is None else 1
        yield GaugeMetricFamily("qa_ready", "1 once the model and index are loaded.", ready)
        if engine is None:
            return
        state = engine.state
        counts = state.index.manifest.counts
        for name in ("articles", "sentences", "chunks"):
            yield GaugeMetricFamily(
                f"qa_index_{name}", f"{name.title()} in the served index.", getattr(counts, name)
            )
        yield GaugeMetricFamily(
            "qa_index_last_reload_timestamp_seconds",
            "When the served index was loaded or last swapped (Unix time).",
            state.loaded_at,
        )
        yield CounterMetricFamily(
            "qa_index_reloads", "Index swaps since start (writes and follow-ups).", engine.reloads
        )


class _FeedCollector:
    """Reads the followed feeds' counts at scrape time (`qa.engine.feeds`)."""

    def __init__(self, app: FastAPI) -> None:
        self.app = app

    def describe(self) -> list[Metric]:
        return []

    def collect(self) -> Iterator[Metric]:
        follower = getattr(self.app.state, "feeds", None)
        statuses = follower.statuses() if follower is not None else []
        polls = CounterMetricFamily(
            "qa_feed_polls",
            "Feed polls by result (ok, not_modified, failed).",
            labels=["feed", "result"],
        )
        added = CounterMetricFamily(
            "qa_feed_articles_added", "Articles stored from a feed.", labels=["feed"]
        )
        present = CounterMetricFamily(
            "qa_feed_articles_present", "Feed links already stored (not fetched).", labels=["feed"]
        )
        failed = CounterMetricFamily(
            "qa_feed_articles_failed", "Feed links that could not be added.", labels=["feed"]
        )
        success = GaugeMetricFamily(
            "qa_feed_last_success_timestamp_seconds",
            "When a poll of the feed last did not fail (Unix time; absent before one).",
            labels=["feed"],
        )
        for status in statuses:
            for result, count in status.polls.items():
                polls.add_metric([status.url, result], count)
            added.add_metric([status.url], status.added_total)
            present.add_metric([status.url], status.present_total)
            failed.add_metric([status.url], status.failed_total)
            if status.last_success is not None:
                success.add_metric([status.url], status.last_success)
        yield from (polls, added, present, failed, success)


class InFlight:
    """How many HTTP requests are being handled: a server that stops cancels those still running
    after its grace period, then waits here (`drained`) for them to end and be logged."""

    def __init__(self) -> None:
        self.count = 0

    async def drained(self, seconds: float) -> bool:
        """Wait until no request is in flight, at most `seconds`; True when none is."""
        with anyio.move_on_after(seconds):
            while self.count:
                await anyio.sleep(0.02)
        return self.count == 0


class RequestLog:
    """Request id, one JSON log line and the metrics of every HTTP request."""

    def __init__(self, app: ASGIApp, metrics: Metrics, in_flight: InFlight) -> None:
        self.app = app
        self.metrics = metrics
        self.in_flight = in_flight

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        given = _header(scope, b"x-request-id")
        request_id = given if given and _REQUEST_ID.fullmatch(given) else uuid.uuid4().hex
        scope["qa.request_id"] = request_id
        started = time.perf_counter()
        status = 500

        async def send_with_id(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
                headers = [h for h in message.get("headers", []) if h[0].lower() != b"x-request-id"]
                headers.append((b"x-request-id", request_id.encode()))
                message = {**message, "headers": headers}
            await send(message)

        self.in_flight.count += 1
        try:
            await self.app(scope, receive, send_with_id)
        finally:
            self.in_flight.count -= 1
            seconds = time.perf_counter() - started
            route = self.metrics.route_of(scope)
            method = scope["method"]
            self.metrics.requests.labels(method, route, str(status)).inc()
            self.metrics.latency.labels(method, route).observe(seconds)
            access_log.info(
                json.dumps(
                    {
                        "event": "request",
                        "request_id": request_id,
                        "method": method,
                        "path": scope["path"],
                        "route": route,
                        "status": status,
                        "duration_ms": round(seconds * 1000, 2),
                        "client": (scope.get("client") or ("", 0))[0],
                    }
                )
            )
