"""The probes and /metrics on a bare app: what /readyz says while loading, after a failed load
and once ready, and /metrics serving the app's own registry behind the read token."""

from __future__ import annotations

from types import SimpleNamespace

from fastapi import FastAPI
from fastapi.testclient import TestClient
from prometheus_client import CollectorRegistry, Counter

from qa.core.settings import Settings
from qa.service.routes.ops import router

READ = "read-token-0123456789abcdef"


def bare_app(read_token: str | None = None) -> FastAPI:
    app = FastAPI()
    app.include_router(router)
    app.state.settings = Settings(read_token=read_token)
    registry = CollectorRegistry()
    Counter("qa_probe_test", "A counter only this app has.", registry=registry).inc(3)
    app.state.metrics = SimpleNamespace(registry=registry)
    return app


def test_livez_says_alive_whatever_the_index() -> None:
    assert TestClient(bare_app()).get("/livez").json() == {"status": "alive"}


def test_readyz_is_503_while_loading_and_after_a_failed_load() -> None:
    app = bare_app()
    r = TestClient(app).get("/readyz")
    assert r.status_code == 503 and r.json() == {"error": "not ready: loading the model and index"}
    app.state.load_error = "index file x is corrupt"
    r = TestClient(app).get("/readyz")
    assert r.status_code == 503 and r.json() == {
        "error": "not ready: failed: index file x is corrupt"
    }


def test_readyz_describes_the_index_being_served() -> None:
    app = bare_app()
    index = SimpleNamespace(documents=["a", "b", "c"])
    app.state.engine = SimpleNamespace(
        state=SimpleNamespace(index=index, version="v-42", loaded_at=86400.0)
    )
    r = TestClient(app).get("/readyz")
    assert r.status_code == 200 and r.json() == {
        "status": "ready",
        "documents": 3,
        "index_version": "v-42",
        "index_loaded_at": "1970-01-02T00:00:00+00:00",
    }


def test_metrics_serves_the_apps_registry_in_prometheus_text() -> None:
    r = TestClient(bare_app()).get("/metrics")
    assert r.status_code == 200 and r.headers["content-type"].startswith("text/plain")
    assert "qa_probe_test_total 3.0" in r.text


def test_metrics_need_the_read_token_once_one_is_set_but_the_probes_do_not() -> None:
    c = TestClient(bare_app(read_token=READ))
    assert c.get("/metrics").status_code == 401
    assert c.get("/metrics", headers={"Authorization": f"Bearer {READ}"}).status_code == 200
    assert c.get("/livez").status_code == 200 and c.get("/readyz").status_code == 503
