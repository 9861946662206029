"""Requests uvicorn cannot parse never reach the app; they still get a JSON 400."""

from __future__ import annotations

import contextlib
import json
import socket
import threading
import time
from collections.abc import Iterator

import pytest
import uvicorn

from qa.core.settings import Settings
from qa.engine.engine import Engine
from qa.service.app import create_app
from qa.service.http_errors import HTTP_PROTOCOL, JsonErrorsH11
from tests.conftest import FakeEmbedder

MALFORMED = {
    "NUL in a header": b"GET /livez HTTP/1.1\r\nHost: x\r\nX-Note: a\x00b\r\n\r\n",
    "64 KB path": b"GET /" + b"a" * 65536 + b" HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n",
    "not HTTP": b"HELLO THERE\r\n\r\n",
}


@pytest.fixture(params=[HTTP_PROTOCOL, JsonErrorsH11], ids=lambda c: c.__name__)
def port(request: pytest.FixtureRequest, settings: Settings) -> Iterator[int]:
    engine, _ = Engine.open(settings, embedder=FakeEmbedder())
    sock = socket.socket()
    sock.bind(("127.0.0.1", 0))
    sock.listen(16)
    config = uvicorn.Config(
        create_app(settings, engine), http=request.param, log_level="critical", lifespan="off"
    )
    server = uvicorn.Server(config)
    thread = threading.Thread(target=server.run, kwargs={"sockets": [sock]}, daemon=True)
    thread.start()
    deadline = time.monotonic() + 10
    while not server.started:
        assert time.monotonic() < deadline
        time.sleep(0.01)
    yield sock.getsockname()[1]
    server.should_exit = True
    thread.join(timeout=10)


def exchange(port: int, raw: bytes) -> bytes:
    with socket.create_connection(("127.0.0.1", port), timeout=10) as conn:
        # The server may close before reading it all; its answer is sent all the same.
        with contextlib.suppress(OSError):
            conn.sendall(raw)
        chunks = []
        while chunk := conn.recv(65536):
            chunks.append(chunk)
    return b"".join(chunks)


@pytest.mark.parametrize("case", sorted(MALFORMED))
def test_a_request_uvicorn_cannot_parse_gets_a_json_400(port: int, case: str) -> None:
    head, _, body = exchange(port, MALFORMED[case]).partition(b"\r\n\r\n")
    lines = head.decode("latin-1").lower().split("\r\n")
    assert "content-type: application/json" in lines, lines
    payload = json.loads(body)
    if case == "64 KB path" and lines[0].startswith("http/1.1 404"):
        return  # h11 parses it: the app's own JSON 404 (httptools refuses it: the 400 below)
    assert lines[0].startswith("http/1.1 400"), lines
    assert "malformed HTTP request" in payload["error"] and "detail" in payload


def test_a_well_formed_request_is_untouched(port: int) -> None:
    reply = exchange(port, b"GET /livez HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
    assert reply.startswith(b"HTTP/1.1 200") and reply.endswith(b'{"status":"alive"}')
