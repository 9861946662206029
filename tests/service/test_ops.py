"""Operations: /metrics, request ids and logs, body limits by route, following new indexes."""

from __future__ import annotations

import json
import logging
import re
import socket
import time
from collections.abc import Callable, Iterator

import pytest
from fastapi.testclient import TestClient

from qa.core.settings import Settings
from qa.corpus.seeds import article_from_text
from qa.engine.engine import Engine
from tests.conftest import FakeEmbedder, serve_app
from tests.service.conftest import make_client

TOKEN = "write-token-0123456789"


def wait_for(condition: Callable[[], bool], seconds: float = 10.0) -> None:
    deadline = time.monotonic() + seconds
    while not condition():
        assert time.monotonic() < deadline, "timed out"
        time.sleep(0.02)


@pytest.fixture
def client(settings: Settings) -> Iterator[TestClient]:
    with make_client(settings, api_token=TOKEN, reload_interval=0.05) as c:
        yield c


def metric(text: str, name: str, **labels: str) -> float:
    want = ",".join(f'{k}="{v}"' for k, v in labels.items())
    pattern = re.escape(name) + (r"\{" + re.escape(want) + r"\}" if labels else "") + r" (\S+)"
    found = re.search(r"^" + pattern + "$", text, re.MULTILINE)
    assert found, f"{name} {labels} not in /metrics"
    return float(found.group(1))


def test_metrics_count_requests_and_describe_the_index(client: TestClient) -> None:
    for _ in range(3):
        client.post("/ask", json={"question": "Who met in Tokyo?"})
    client.post("/ask", json={"question": ""})
    client.get("/documents/nope")
    text = client.get("/metrics").text
    assert client.get("/metrics").headers["content-type"].startswith("text/plain")
    assert metric(text, "qa_http_requests_total", method="POST", route="/ask", status="200") == 3
    assert metric(text, "qa_http_requests_total", method="POST", route="/ask", status="422") == 1
    route = "/documents/{doc_id}"
    assert metric(text, "qa_http_requests_total", method="GET", route=route, status="404") == 1
    assert metric(text, "qa_http_request_duration_seconds_count", method="POST", route="/ask") == 4
    assert "qa_http_request_duration_seconds_bucket{" in text
    assert metric(text, "qa_ready") == 1
    assert metric(text, "qa_index_articles") == 2
    assert metric(text, "qa_index_sentences") == 5
    loaded = metric(text, "qa_index_last_reload_timestamp_seconds")
    assert abs(loaded - time.time()) < 60
    assert "process_resident_memory_bytes" in text
    reloads = metric(text, "qa_index_reloads_total")
    auth = {"Authorization": f"Bearer {TOKEN}"}
    client.put("/documents/new", json={"text": "A new article."}, headers=auth)
    text = client.get("/metrics").text
    assert metric(text, "qa_index_reloads_total") == reloads + 1
    assert metric(text, "qa_index_articles") == 3
    assert metric(text, "qa_index_last_reload_timestamp_seconds") >= loaded


def test_request_ids_are_echoed_or_made_and_logged(client: TestClient, caplog) -> None:
    caplog.set_level(logging.INFO, logger="qa.access")
    r = client.get("/documents", headers={"X-Request-ID": "abc-123.x"})
    assert r.headers["x-request-id"] == "abc-123.x"
    for bad in ("has spaces", "x" * 200, "<script>"):
        made = client.get("/documents", headers={"X-Request-ID": bad}).headers["x-request-id"]
        assert re.fullmatch(r"[0-9a-f]{32}", made)
    r = client.post("/ask", json={"question": "x" * 2000})
    assert re.fullmatch(r"[0-9a-f]{32}", r.headers["x-request-id"])
    lines = [json.loads(rec.getMessage()) for rec in caplog.records if rec.name == "qa.access"]
    first = lines[0]
    assert first["request_id"] == "abc-123.x"
    assert first["method"] == "GET" and first["path"] == "/documents"
    assert first["route"] == "/documents" and first["status"] == 200
    assert first["duration_ms"] >= 0
    assert lines[-1]["status"] == 422 and lines[-1]["request_id"] == r.headers["x-request-id"]


def test_413_before_routing_is_still_labelled_by_route(client: TestClient) -> None:
    r = client.post("/ask", content=b"x" * (2 * 1024 * 1024))
    assert r.status_code == 413
    text = client.get("/metrics").text
    assert metric(text, "qa_http_requests_total", method="POST", route="/ask", status="413") == 1


@pytest.mark.parametrize(
    ("method", "path", "route"),
    [("POST", "/documents", "/documents"), ("PUT", "/documents/big", "/documents/{doc_id}")],
)
def test_an_upload_refused_by_content_length_is_counted_under_its_route(
    client: TestClient, method: str, path: str, route: str
) -> None:
    huge = b"x" * (2 * client.app.state.settings.max_article_bytes + 65 * 1024)
    auth = {"Authorization": f"Bearer {TOKEN}", "content-type": "application/json"}
    r = client.request(method, path, content=huge, headers=auth)
    assert r.status_code == 413 and "QA_MAX_ARTICLE_BYTES" in r.json()["error"]
    assert r.headers["connection"] == "close"  # the rest of the upload is not read
    text = client.get("/metrics").text
    assert metric(text, "qa_http_requests_total", method=method, route=route, status="413") == 1


def test_server_follows_an_index_published_by_another_process(
    client: TestClient, settings: Settings
) -> None:
    other = Engine.open(settings, embedder=FakeEmbedder())[0]  # e.g. `qa add` beside the server
    text = "Published by another process about giraffes."
    other.write([article_from_text(text, doc_id="giraffe", title=None, max_bytes=10**6)])
    wait_for(lambda: client.get("/documents/giraffe").status_code == 200, seconds=5)
    assert client.get("/readyz").json()["documents"] == 3


@pytest.mark.parametrize(
    ("path", "body"),
    [("/ask", b'{"question": "Who'), ("/documents", b'{"text": "The harbour')],
)
def test_stalled_request_bodies_are_answered_408_and_their_connections_closed(
    settings: Settings, path: str, body: bytes
) -> None:
    # 20 clients that send their headers and half a body, then nothing: each is answered 408
    # and its connection closed (uvicorn's keep-alive timeout does not cover a body).
    settings = settings.model_copy(update={"api_token": TOKEN, "body_timeout": 1.0})
    engine, _ = Engine.open(settings, embedder=FakeEmbedder())
    with serve_app(settings, engine) as base:
        host, port = base.removeprefix("http://").split(":")
        stalled = []
        for _ in range(20):
            sock = socket.create_connection((host, int(port)))
            sock.sendall(
                f"POST {path} HTTP/1.1\r\nHost: test\r\nContent-Type: application/json\r\n"
                f"Authorization: Bearer {TOKEN}\r\nContent-Length: 1000\r\n\r\n".encode()
                + body
            )
            sock.settimeout(30)  # far beyond the body timeout: the server must answer first
            stalled.append(sock)
        for sock in stalled:
            answer = b""
            while chunk := sock.recv(65536):  # to the end: the server closes the connection
                answer += chunk
            sock.close()
            assert answer.startswith(b"HTTP/1.1 408"), answer[:200]
            assert b"within 1 s" in answer
