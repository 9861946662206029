"""GET /documents and /documents/{doc_id}."""

from __future__ import annotations

from fastapi.testclient import TestClient


def test_documents_list_and_detail(client: TestClient) -> None:
    docs = client.get("/documents").json()
    assert {d["doc_id"]: d["sentences"] for d in docs} == {"chips": 2, "quad": 3}
    chips = client.get("/documents/chips").json()
    assert chips["title"] == "Chip makers expand"
    for s in chips["sentences"]:
        assert chips["text"][s["start"] : s["end"]].strip()


def test_unknown_document_is_404_with_message(client: TestClient) -> None:
    r = client.get("/documents/nope")
    assert r.status_code == 404
    assert "nope" in r.json()["error"]
