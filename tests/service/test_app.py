"""The app factory: the OpenAPI document and its version."""

from __future__ import annotations

from fastapi.testclient import TestClient

import qa


def test_openapi_docs_are_served(client: TestClient) -> None:
    assert client.get("/docs").status_code == 200
    assert "/ask" in client.get("/openapi.json").json()["paths"]


def test_the_app_reports_the_package_version(client: TestClient) -> None:
    assert client.get("/openapi.json").json()["info"]["version"] == qa.__version__
