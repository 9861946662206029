"""POST /ask: verbatim answers whose citations and short answer check out against the article."""

from __future__ import annotations

from fastapi.testclient import TestClient


def test_ask_returns_verifiable_citations(client: TestClient) -> None:
    body = client.post("/ask", json={"question": "Who welcomed the plan?", "top_k": 2}).json()
    assert set(body) == {
        "question",
        "answer",
        "confidence",
        "citations",
        "answer_span",
        "took_ms",
        "interpreted_as",
    }
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
