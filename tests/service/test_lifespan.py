"""The app's lifespan: /livez at once, the model and index loading in the background, /readyz
and the routes that need the index answering 503 until then, and a failed load reported."""

from __future__ import annotations

import threading

import pytest
from fastapi.testclient import TestClient

from qa.core.settings import Settings
from qa.engine.engine import Engine
from qa.index.errors import IndexUnavailable
from qa.service.app import create_app
from tests.conftest import FakeEmbedder
from tests.service.test_ops import wait_for


@pytest.fixture
def gate(monkeypatch) -> threading.Event:
    """Engine.open in the app's background thread waits for this event (and uses fakes)."""
    release = threading.Event()
    real_open = Engine.open

    def slow_open(settings: Settings, **kwargs: object):
        assert release.wait(10)
        return real_open(settings, embedder=FakeEmbedder(), log=kwargs.get("log", print))

    monkeypatch.setattr("qa.service.lifespan.Engine.open", slow_open)
    return release


def test_livez_at_once_readyz_and_routes_503_until_loaded(settings: Settings, gate) -> None:
    with TestClient(create_app(settings), raise_server_exceptions=False) as c:
        assert c.get("/livez").json() == {"status": "alive"}
        r = c.get("/readyz")
        assert r.status_code == 503 and "loading" in r.json()["error"]
        for method, url in (("POST", "/ask"), ("GET", "/documents"), ("GET", "/health")):
            r = c.request(method, url, json={"question": "Who met?"})
            assert r.status_code == 503 and "loading" in r.json()["error"], url
        assert "qa_ready 0.0" in c.get("/metrics").text
        gate.set()
        wait_for(lambda: c.get("/readyz").status_code == 200)
        ready = c.get("/readyz").json()
        assert ready["status"] == "ready" and ready["documents"] == 2
        assert ready["index_version"].startswith("v-")
        assert c.post("/ask", json={"question": "Who welcomed the plan?"}).status_code == 200


def test_a_failed_load_is_reported_and_stops_the_server(settings: Settings, monkeypatch) -> None:
    def broken(*_args: object, **_kwargs: object):
        raise IndexUnavailable("index file x is corrupt and the seeds folder is unreadable")

    monkeypatch.setattr("qa.service.lifespan.Engine.open", broken)
    stopped = threading.Event()
    app = create_app(settings, on_load_failure=stopped.set)
    with TestClient(app, raise_server_exceptions=False) as c:
        assert stopped.wait(5)
        r = c.get("/readyz")
        assert r.status_code == 503 and "failed: index file x is corrupt" in r.json()["error"]
        r = c.post("/ask", json={"question": "Who met?"})
        assert r.status_code == 503 and "could not be loaded" in r.json()["error"]
        assert c.get("/livez").status_code == 200
