"""Clients that go away: a body cut short is a 400 (not a 500), and a write whose client leaves
while its article is being embedded is abandoned with nothing changed."""

from __future__ import annotations

import logging
import threading
import time
from typing import Any

import anyio
import numpy as np
import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient

from qa.core.settings import Settings
from qa.corpus.documents import fingerprint_files
from qa.engine.engine import Engine
from qa.service.app import create_app
from tests.conftest import FakeEmbedder
from tests.corpus.test_seeds import assert_consistent
from tests.service.test_ops import metric

TOKEN = "write-token-0123456789"
AUTH = [(b"authorization", f"Bearer {TOKEN}".encode())]


class SlowEmbedder(FakeEmbedder):
    """A fake embedder that takes a while per call and says when it has started."""

    def __init__(self) -> None:
        super().__init__()
        self.started = threading.Event()

    def encode(
        self, texts: list[str], *, batch_size: int = 64, progress: bool = False
    ) -> np.ndarray:
        self.started.set()
        time.sleep(0.02)
        return super().encode(texts, batch_size=batch_size, progress=progress)


def call(
    app: FastAPI,
    method: str,
    path: str,
    headers: list[tuple[bytes, bytes]],
    body: list[bytes],
    *,
    complete: bool,
    leave_when: threading.Event | None = None,
) -> int | None:
    """Send a request straight to the ASGI app: the `body` pieces, then (when `complete`) the
    end of the body, then a disconnect (once `leave_when` is set). Returns the status sent."""
    messages: list[dict[str, Any]] = [
        {"type": "http.request", "body": piece, "more_body": True} for piece in body
    ]
    if complete:
        messages.append({"type": "http.request", "body": b"", "more_body": False})
    status: list[int] = []

    async def receive() -> dict[str, Any]:
        if messages:
            return messages.pop(0)
        while leave_when is not None and not leave_when.is_set():
            await anyio.sleep(0.005)
        return {"type": "http.disconnect"}

    async def send(message: dict[str, Any]) -> None:
        if message["type"] == "http.response.start":
            status.append(message["status"])

    scope = {
        "type": "http",
        "asgi": {"version": "3.0"},
        "http_version": "1.1",
        "method": method,
        "scheme": "http",
        "path": path,
        "raw_path": path.encode(),
        "root_path": "",
        "query_string": b"",
        "headers": [(b"host", b"testserver"), *headers],
        "client": ("127.0.0.1", 50000),
        "server": ("testserver", 80),
    }
    # In a thread of its own: another test's event loop (Playwright's) may run in this one.
    runner = threading.Thread(target=anyio.run, args=(app, scope, receive, send))
    runner.start()
    runner.join(timeout=60)
    assert not runner.is_alive()
    return status[0] if status else None


def make_app(settings: Settings, embedder: FakeEmbedder) -> FastAPI:
    settings = settings.model_copy(update={"api_token": TOKEN, "batch_size": 1})
    engine, _ = Engine.open(settings, embedder=embedder)
    return create_app(settings, engine)


@pytest.mark.parametrize(
    ("method", "path", "route"),
    [
        ("POST", "/documents", "/documents"),
        ("PUT", "/documents/zebra", "/documents/{doc_id}"),
        ("POST", "/ask", "/ask"),
    ],
)
def test_a_body_cut_short_by_the_client_is_a_logged_disconnect_counted_as_400(
    settings: Settings, caplog: pytest.LogCaptureFixture, method: str, path: str, route: str
) -> None:
    app = make_app(settings, FakeEmbedder())
    before = fingerprint_files(settings.seeds_dir)
    headers = [*AUTH, (b"content-type", b"application/json"), (b"content-length", b"1000")]
    with caplog.at_level(logging.INFO):
        status = call(app, method, path, headers, [b'{"text": "Zebras'], complete=False)
    assert status == 400
    assert not [r for r in caplog.records if r.levelno >= logging.ERROR], caplog.text
    assert "client disconnected" in caplog.text
    assert fingerprint_files(settings.seeds_dir) == before
    with TestClient(app) as client:
        text = client.get("/metrics").text
    assert metric(text, "qa_http_requests_total", method=method, route=route, status="400") == 1


@pytest.mark.parametrize(("method", "path"), [("POST", "/documents"), ("PUT", "/documents/big")])
def test_a_write_whose_client_leaves_while_embedding_is_abandoned_with_nothing_changed(
    settings: Settings, caplog: pytest.LogCaptureFixture, method: str, path: str
) -> None:
    embedder = SlowEmbedder()
    app = make_app(settings, embedder)
    before = fingerprint_files(settings.seeds_dir)
    text = " ".join(f"Report {i} says {i} boats sailed on day {i}." for i in range(300))
    body = f'{{"doc_id": "big", "text": "{text}"}}' if method == "POST" else f'{{"text": "{text}"}}'
    headers = [*AUTH, (b"content-type", b"application/json")]
    embedder.calls = 0
    with caplog.at_level(logging.INFO):
        status = call(
            app, method, path, headers, [body.encode()], complete=True, leave_when=embedder.started
        )
    assert status == 400
    assert "write abandoned" in caplog.text
    # 300 sentences and 150 chunks, 4 texts per call: it stopped long before the end.
    assert embedder.calls < 20
    assert fingerprint_files(settings.seeds_dir) == before
    assert_consistent(settings)
    engine = app.state.engine
    assert "big" not in engine.index.doc_pos
