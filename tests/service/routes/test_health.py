"""GET /health."""

from __future__ import annotations

from fastapi.testclient import TestClient


def test_health(client: TestClient) -> None:
    body = client.get("/health").json()
    assert body["status"] == "ok" and body["documents"] == 2 and body["sentences"] == 5
    assert body["model"] == "fake" and body["index_built_at"]
