"""End to end: a follow-up with history cites the article the previous answer came from, where
the same question alone is answered from another article (the real model, an index built in a
temporary folder over the seed and the follow-up set's articles, over HTTP)."""

from __future__ import annotations

import shutil
from collections.abc import Iterator
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from qa.core.settings import Settings
from qa.engine.engine import Engine
from qa.service.app import create_app
from tests.conftest import SEEDS

pytestmark = pytest.mark.e2e
ARTICLES = Path(__file__).resolve().parents[2] / "eval" / "articles"
BRIDGE = "harbour-bridge-reopens"


@pytest.fixture(scope="module")
def client(tmp_path_factory: pytest.TempPathFactory) -> Iterator[TestClient]:
    root = tmp_path_factory.mktemp("followup")
    seeds = root / "seeds"
    shutil.copytree(SEEDS, seeds)
    for article in ARTICLES.glob("*.md"):
        shutil.copy(article, seeds / article.name)
    settings = Settings(seeds_dir=seeds, index_dir=root / "index")
    engine, _ = Engine.open(settings)  # the default encoder, as `qa serve` and `qa eval` use
    with TestClient(create_app(settings, engine)) as c:
        yield c


def ask(client: TestClient, question: str, history: list[dict] | None = None) -> dict:
    response = client.post("/ask", json={"question": question, "history": history})
    assert response.status_code == 200, response.text
    return response.json()


def test_a_follow_up_is_answered_from_the_previous_answers_article(client: TestClient) -> None:
    first = ask(client, "Why was the Harbour Bridge in Port Elling closed?")
    assert first["citations"][0]["doc_id"] == BRIDGE and first["interpreted_as"] is None
    turn = {"question": first["question"], "doc_id": first["citations"][0]["doc_id"]}

    alone = ask(client, "How much did it cost?")
    assert alone["citations"][0]["doc_id"] != BRIDGE  # another article's budget
    assert alone["interpreted_as"] is None

    follow = ask(client, "How much did it cost?", [turn])
    assert follow["citations"][0]["doc_id"] == BRIDGE
    assert "14.5 million euros" in (follow["answer"] or "")
    assert (
        follow["interpreted_as"]
        == "How much did it cost? (about: Harbour Bridge, Port Elling closed)"
    )


def test_a_swap_asks_the_previous_question_about_something_else(client: TestClient) -> None:
    turn = {"question": "How much did the Harbour Bridge repair cost?", "doc_id": BRIDGE}
    body = ask(client, "What about the new library?", [turn])
    assert body["interpreted_as"] == "How much did the new library cost?"
    assert body["citations"][0]["doc_id"] == "port-elling-library"
    assert "22 million euros" in (body["answer"] or "")
