"""Pages that drip, fetched by a real server: the fetches wait on their own limiter, so the
probes and the read routes keep answering, and a fetch stops as soon as its client leaves."""

from __future__ import annotations

import json
import socket
import time
from urllib.parse import urlsplit

import httpx

from qa.core.settings import Settings
from qa.engine.engine import Engine
from tests.conftest import FakeEmbedder, serve_app
from tests.news_site import NewsSite
from tests.service.routes.test_articles import TOKEN

SLOW_FETCHES = 40  # as many as anyio's default thread limiter has threads


def wait_for(condition: object, seconds: float) -> bool:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if condition():  # type: ignore[operator]
            return True
        time.sleep(0.05)
    return False


def send_post(base: str, body: dict[str, str], token: str = TOKEN) -> socket.socket:
    """POST /documents on a raw connection whose answer is never read (closing it leaves)."""
    address = urlsplit(base)
    data = json.dumps(body).encode()
    sock = socket.create_connection((address.hostname, address.port))
    sock.sendall(
        b"POST /documents HTTP/1.1\r\nHost: test\r\nContent-Type: application/json\r\n"
        + f"Authorization: Bearer {token}\r\nContent-Length: {len(data)}\r\n\r\n".encode()
        + data
    )
    return sock


def test_slow_fetches_starve_no_route_and_stop_when_their_clients_leave(
    settings: Settings, news_site: NewsSite
) -> None:
    # A fetch timeout far beyond the test: every fetch below ends because its client left.
    settings = settings.model_copy(
        update={"api_token": TOKEN, "fetch_allow_private": True, "fetch_timeout": 120}
    )
    engine, _ = Engine.open(settings, embedder=FakeEmbedder())
    with serve_app(settings, engine) as base:
        url = news_site.url("/drip?every=0.5")
        clients = [send_post(base, {"url": url}) for _ in range(SLOW_FETCHES)]
        try:
            assert wait_for(lambda: news_site.dripping() >= 4, 20), "no fetch started"
            time.sleep(0.5)  # the others are running or waiting for their turn by now
            for path in ("/livez", "/readyz", "/health", "/documents", "/config", "/"):
                r = httpx.get(base + path, timeout=10)
                assert r.status_code == 200, (path, r.text)
            assert news_site.dripping() >= 4  # the slow fetches were still in flight
        finally:
            for sock in clients:
                sock.close()
        # Every fetch was abandoned when its client left, long before its 120 s timeout.
        assert wait_for(lambda: news_site.dripping() == 0, 30), news_site.dripping()
        started = len(news_site.drips)
        time.sleep(1)  # the fetches still waiting for a turn never start
        assert len(news_site.drips) == started
        assert httpx.get(base + "/livez", timeout=10).status_code == 200
