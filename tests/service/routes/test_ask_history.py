"""POST /ask with `history`: its validation, and `interpreted_as` in the response."""

from __future__ import annotations

import pytest
from fastapi.testclient import TestClient

FOLLOW_UP = "When will it happen?"
TURN = {"question": "Where will the semiconductor factories open?", "doc_id": "chips"}


def ask(client: TestClient, question: str, history: object) -> tuple[int, dict]:
    response = client.post("/ask", json={"question": question, "history": history})
    return response.status_code, response.json()


@pytest.mark.parametrize(
    ("history", "where"),
    [
        ([TURN] * 6, "history"),  # at most 5 turns
        ("What about Japan?", "history"),
        ([{"question": "Where?"}], "doc_id"),  # doc_id is required (null when no answer)
        ([{"doc_id": "chips"}], "question"),
        ([{"question": 7, "doc_id": "chips"}], "question"),
        ([{"question": "   ", "doc_id": "chips"}], "question"),
        ([{"question": "x" * 1001, "doc_id": "chips"}], "question"),
        ([{"question": "Where?", "doc_id": 3}], "doc_id"),
        ([{**TURN, "answer": "In Gujarat."}], "answer"),  # unknown fields
        ([["Where?", "chips"]], "history"),
    ],
)
def test_a_bad_history_is_a_422_naming_it(client: TestClient, history: object, where: str) -> None:
    status, body = ask(client, FOLLOW_UP, history)
    assert status == 422, body
    assert body["error"] and isinstance(body["detail"], list)
    assert any(where in map(str, d["loc"]) for d in body["detail"]), body


def test_five_turns_and_a_null_doc_id_are_accepted(client: TestClient) -> None:
    history = [*[TURN] * 4, {"question": "Who paid?", "doc_id": None}]
    status, body = ask(client, FOLLOW_UP, history)
    assert status == 200, body


def test_a_follow_up_says_what_it_was_answered_as(client: TestClient) -> None:
    status, body = ask(client, FOLLOW_UP, [TURN])
    assert status == 200
    assert body["question"] == FOLLOW_UP
    assert body["interpreted_as"] == f"{FOLLOW_UP} (about: semiconductor factories open)"
    assert body["citations"][0]["doc_id"] == "chips"


def test_a_question_that_stands_alone_gets_the_same_response_as_without_history(
    client: TestClient,
) -> None:
    question = "Who welcomed the plan?"
    _, alone = ask(client, question, None)
    status, body = ask(client, question, [TURN])
    assert status == 200
    assert alone["interpreted_as"] is body["interpreted_as"] is None
    alone.pop("took_ms"), body.pop("took_ms")
    assert body == alone


def test_an_unknown_doc_id_in_the_history_is_ignored(client: TestClient) -> None:
    status, body = ask(client, FOLLOW_UP, [{**TURN, "doc_id": "deleted-since"}])
    assert status == 200, body
    assert body["interpreted_as"] is not None
