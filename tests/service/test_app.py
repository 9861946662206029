from __future__ import annotations

from collections.abc import Iterator

import pytest
from fastapi.testclient import TestClient

from qa.core.settings import Settings
from qa.service.app import create_app
from qa.service.engine import Engine
from tests.conftest import FakeEmbedder


@pytest.fixture
def client(settings: Settings) -> Iterator[TestClient]:
    engine, _ = Engine.open(settings, embedder=FakeEmbedder())
    with TestClient(create_app(settings, engine), raise_server_exceptions=False) as c:
        yield c


def test_ask_returns_verifiable_citations(client: TestClient) -> None:
    body = client.post("/ask", json={"question": "Who welcomed the plan?", "top_k": 2}).json()
    assert set(body) == {"question", "answer", "confidence", "citations", "answer_span", "took_ms"}
    assert 0 <= body["confidence"] <= 1
    assert 1 <= len(body["citations"]) <= 2
    for c in body["citations"]:
        doc = client.get(f"/documents/{c['doc_id']}").json()
        assert doc["text"][c["start"] : c["end"]] == c["text"]
        assert set(c) == {
            "doc_id",
            "title",
            "url",
            "published",
            "source",
            "sentence_index",
            "start",
            "end",
            "text",
            "score",
        }


def test_answer_span_lies_inside_the_first_citation_and_matches_the_article(
    client: TestClient,
) -> None:
    body = client.post("/ask", json={"question": "Who welcomed the plan?"}).json()
    assert body["answer"] == "Prime Minister Shigeru Ishiba welcomed the plan."
    span, lead = body["answer_span"], body["citations"][0]
    assert span is not None and "Ishiba" in span["text"]
    assert lead["start"] <= span["start"] < span["end"] <= lead["end"]
    doc = client.get(f"/documents/{lead['doc_id']}").json()
    assert doc["text"][span["start"] : span["end"]] == span["text"]


def test_why_question_gets_no_answer_span(client: TestClient) -> None:
    body = client.post("/ask", json={"question": "Why did Shigeru Ishiba welcome the plan?"}).json()
    assert body["answer"] is not None and body["answer_span"] is None


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


def test_health(client: TestClient) -> None:
    body = client.get("/health").json()
    assert body["status"] == "ok" and body["documents"] == 2 and body["sentences"] == 5
    assert body["model"] == "fake" and body["index_built_at"]


@pytest.mark.parametrize(
    ("payload", "fragment"),
    [
        ({"question": ""}, "question"),
        ({"question": "   "}, "blank"),
        ({"question": "x" * 1001}, "1000"),
        ({"question": "hi", "top_k": 0}, "top_k"),
        ({"question": "hi", "top_k": 21}, "top_k"),
        ({"question": "hi", "top_k": "3"}, "top_k"),
        ({"question": 42}, "question"),
        ({}, "question"),
        ({"question": "hi", "topk": 3}, "topk"),
    ],
)
def test_invalid_input_is_422_with_a_message(client: TestClient, payload, fragment: str) -> None:
    r = client.post("/ask", json=payload)
    assert r.status_code == 422
    assert fragment in r.json()["error"]


@pytest.mark.parametrize("body", [b"{not json", b"\xff\xfe\x00", b'{"question": "caf\xe9"}'])
@pytest.mark.parametrize("route", ["/ask", "/feedback"])
def test_malformed_json_is_422(client: TestClient, route: str, body: bytes) -> None:
    # Undecodable bytes too (FastAPI's own answer to those is a bare 400).
    r = client.post(route, content=body, headers={"content-type": "application/json"})
    assert r.status_code == 422, r.text
    assert "JSON" in r.json()["error"] and r.json()["detail"]


def test_openapi_docs_are_served(client: TestClient) -> None:
    assert client.get("/docs").status_code == 200
    assert "/ask" in client.get("/openapi.json").json()["paths"]


HOSTILE_BODIES = {
    "invalid UTF-8": (b'{"question": "caf\xc3\x28 ?"}', "application/json", "UTF-8"),
    "1000-deep nesting": (
        b'{"question": ' + b"[" * 1000 + b"]" * 1000 + b"}",
        "application/json",
        "nested",
    ),
    "an integer of 5000 digits": (
        b'{"question": "hi", "top_k": ' + b"9" * 5000 + b"}",
        "application/json",
        "digits",
    ),
    "charset=latin-1": (
        '{"question": "café?"}'.encode("latin-1"),
        "application/json; charset=latin-1",
        "UTF-8",
    ),
}


@pytest.mark.parametrize("route", ["/ask", "/feedback"])
@pytest.mark.parametrize("case", sorted(HOSTILE_BODIES))
def test_a_body_json_cannot_parse_is_422_with_error_and_detail(
    client: TestClient, route: str, case: str
) -> None:
    body, kind, fragment = HOSTILE_BODIES[case]
    r = client.post(route, content=body, headers={"content-type": kind})
    assert r.status_code == 422, r.text
    payload = r.json()
    assert fragment in payload["error"]
    assert payload["detail"] and payload["detail"][0]["loc"] == ["body"]
