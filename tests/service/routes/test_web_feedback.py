"""POST /feedback under abuse: capped fields, a capped file, and a rate per client."""

from __future__ import annotations

from pathlib import Path

from fastapi.testclient import TestClient

from qa.core.settings import Settings
from qa.engine.engine import Engine
from qa.service.app import create_app
from tests.conftest import FakeEmbedder

LONGEST = {
    "question": "🗳" * 1000,
    "answer": "🗳" * 2000,
    "doc_id": "quad",
    "sentence_index": 0,
    "helpful": True,
}


def client_for(settings: Settings, tmp_path: Path, address: str = "10.0.0.1", **over: object):
    settings = settings.model_copy(
        update={"feedback_path": tmp_path / "feedback.jsonl", "feedback_rate": 10_000, **over}
    )
    engine, _ = Engine.open(settings, embedder=FakeEmbedder())
    app = create_app(settings, engine)
    return TestClient(app, raise_server_exceptions=False, client=(address, 50000))


def test_a_vote_is_at_most_a_few_kilobytes(settings: Settings, tmp_path: Path) -> None:
    with client_for(settings, tmp_path) as c:
        assert c.post("/feedback", json=LONGEST).status_code == 201
        too_long = c.post("/feedback", json={**LONGEST, "answer": "x" * 2001})
    assert too_long.status_code == 422 and "answer" in too_long.json()["error"]
    # The longest vote the API takes: question and answer of 4-byte characters, the evidence.
    assert (tmp_path / "feedback.jsonl").stat().st_size < 16 * 1024


def test_the_feedback_file_never_grows_past_its_cap(settings: Settings, tmp_path: Path) -> None:
    cap = 64 * 1024
    with client_for(settings, tmp_path, feedback_max_bytes=cap) as c:
        codes = [c.post("/feedback", json=LONGEST).status_code for _ in range(300)]
        full = c.post("/feedback", json=LONGEST)
    assert codes[0] == 201 and codes[-1] == 507, codes
    assert set(codes) == {201, 507} and codes.index(507) == codes.count(201)  # none after full
    assert "QA_FEEDBACK_MAX_BYTES" in full.json()["error"]
    assert (tmp_path / "feedback.jsonl").stat().st_size <= cap


def test_votes_are_rate_limited_per_client(settings: Settings, tmp_path: Path) -> None:
    vote = {"question": "q?", "helpful": False}
    with client_for(settings, tmp_path, feedback_rate=5) as c:
        codes = [c.post("/feedback", json=vote).status_code for _ in range(8)]
        limited = c.post("/feedback", json=vote)
        # Another client (another address) has votes of its own.
        other = TestClient(c.app, raise_server_exceptions=False, client=("10.0.0.2", 50000))
        assert other.post("/feedback", json=vote).status_code == 201
    assert codes == [201] * 5 + [429] * 3
    assert limited.status_code == 429
    assert int(limited.headers["retry-after"]) >= 1
    assert "QA_FEEDBACK_RATE" in limited.json()["error"]
    assert len((tmp_path / "feedback.jsonl").read_text().splitlines()) == 6
