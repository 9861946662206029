"""Invalid input of every kind is a 422 whose message says what is wrong."""

from __future__ import annotations

import pytest
from fastapi.testclient import TestClient


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
