"""Filters on questions: only chosen articles, only a publication-date range, before ranking."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import date
from pathlib import Path

import numpy as np
import pytest
from fastapi.testclient import TestClient

from qa.answer.filters import ArticleFilter, UnknownArticles, allowed_rows
from qa.core.settings import Settings
from qa.engine.engine import Engine
from qa.service.app import create_app
from tests.conftest import FakeEmbedder

# Three reports of a river flood on different days, and an undated one.
ARTICLES = {
    "monday.md": "---\ntitle: Flood day one\npublished: 2025-05-05\nsource: River Times\n---\n\n"
    "The river flooded the old town on Monday. Water reached the market square.\n",
    "wednesday.md": "---\ntitle: Flood day three\npublished: 2025-05-07T18:00:00+02:00\n---\n\n"
    "The river flood receded on Wednesday. Shops in the old town reopened.\n",
    "friday.md": "---\ntitle: Flood day five\npublished: 2025-05-09\n---\n\n"
    "Insurers said the river flood cost the old town 40 million euros.\n",
    "undated.txt": "The river flood was the worst in the old town for a century.\n",
}
QUESTION = "What did the river flood do to the old town?"


@pytest.fixture
def settings(tmp_path: Path) -> Settings:
    seeds = tmp_path / "seeds"
    seeds.mkdir()
    for name, text in ARTICLES.items():
        (seeds / name).write_text(text, encoding="utf-8")
    return Settings(seeds_dir=seeds, index_dir=tmp_path / "index", abstain_threshold=0.0)


@pytest.fixture
def engine(settings: Settings) -> Engine:
    return Engine.open(settings, embedder=FakeEmbedder())[0]


@pytest.fixture
def client(settings: Settings, engine: Engine) -> Iterator[TestClient]:
    with TestClient(create_app(settings, engine), raise_server_exceptions=False) as c:
        yield c


def cited(engine: Engine, where: ArticleFilter | None) -> set[str]:
    return {c.doc_id for c in engine.ask(QUESTION, 20, where).citations}


def test_without_a_filter_every_article_can_be_cited(engine: Engine) -> None:
    assert cited(engine, None) == {"monday", "wednesday", "friday", "undated"}


@pytest.mark.parametrize(
    ("where", "expected"),
    [
        (ArticleFilter(doc_ids=frozenset({"friday"})), {"friday"}),
        (ArticleFilter(doc_ids=frozenset({"monday", "undated"})), {"monday", "undated"}),
        (ArticleFilter(since=date(2025, 5, 7)), {"wednesday", "friday"}),
        (ArticleFilter(until=date(2025, 5, 7)), {"monday", "wednesday"}),
        (ArticleFilter(since=date(2025, 5, 6), until=date(2025, 5, 8)), {"wednesday"}),
        (ArticleFilter(since=date(2025, 5, 9), until=date(2025, 5, 9)), {"friday"}),
        (ArticleFilter(since=date(2026, 1, 1)), set()),
        (
            ArticleFilter(doc_ids=frozenset({"monday", "friday"}), since=date(2025, 5, 6)),
            {"friday"},
        ),
    ],
)
def test_filters_narrow_the_cited_articles(
    engine: Engine, where: ArticleFilter, expected: set[str]
) -> None:
    assert cited(engine, where) == expected


def test_nothing_matching_is_no_answer(engine: Engine) -> None:
    answer = engine.ask(QUESTION, 3, ArticleFilter(since=date(2030, 1, 1)))
    assert (answer.text, answer.citations, answer.confidence) == (None, [], 0.0)


def test_a_filtered_article_is_found_even_when_it_is_outside_the_global_top(
    settings: Settings,
) -> None:
    # One candidate per search: unfiltered, the best sentence comes from some other article;
    # filtered to one article, its sentences are searched on their own, not dropped afterwards.
    engine = Engine.open(settings.model_copy(update={"candidates": 1}), embedder=FakeEmbedder())[0]
    for doc_id in ("monday", "wednesday", "friday", "undated"):
        where = ArticleFilter(doc_ids=frozenset({doc_id}))
        answer = engine.ask(QUESTION, 3, where)
        assert answer.citations and {c.doc_id for c in answer.citations} == {doc_id}


def test_allowed_rows_marks_the_sentences_of_matching_articles(engine: Engine) -> None:
    index = engine.index
    mask = allowed_rows(index, ArticleFilter(doc_ids=frozenset({"monday"})))
    rows = np.flatnonzero(mask)
    assert [index.span(int(r))[0].doc_id for r in rows] == ["monday", "monday"]


def test_unknown_doc_ids_are_refused(engine: Engine) -> None:
    with pytest.raises(UnknownArticles, match="'nope'"):
        engine.ask(QUESTION, 3, ArticleFilter(doc_ids=frozenset({"monday", "nope"})))


def test_ask_over_http_filters_and_cites_metadata(client: TestClient) -> None:
    body = client.post(
        "/ask",
        json={"question": QUESTION, "top_k": 10, "since": "2025-05-05", "until": "2025-05-05"},
    ).json()
    assert {c["doc_id"] for c in body["citations"]} == {"monday"}
    assert {(c["title"], c["published"], c["source"]) for c in body["citations"]} == {
        ("Flood day one", "2025-05-05", "River Times")
    }
    body = client.post("/ask", json={"question": QUESTION, "doc_ids": ["undated"]}).json()
    assert {c["doc_id"] for c in body["citations"]} == {"undated"}
    assert body["citations"][0]["title"] == (
        "The river flood was the worst in the old town for a century."
    )


@pytest.mark.parametrize(
    ("extra", "fragment"),
    [
        ({"doc_ids": ["monday", "nope"]}, "unknown doc_ids 'nope'"),
        ({"doc_ids": []}, "doc_ids: List should have at least 1 item"),
        ({"doc_ids": "monday"}, "doc_ids: Input should be a valid list"),
        ({"since": "2025-13-01"}, "since: Input should be a valid date"),
        ({"until": "yesterday"}, "until: Value error, must be a date written YYYY-MM-DD"),
        ({"since": 20250505}, "since: Value error, must be a date written YYYY-MM-DD"),
        ({"since": "1746403200"}, "since: Value error, must be a date written YYYY-MM-DD"),
        ({"since": "0"}, "since: Value error, must be a date written YYYY-MM-DD"),
        ({"until": "2025-05-05T00:00:00"}, "until: Value error, must be a date written YYYY"),
        ({"until": "2025-05-05 00:00:00Z"}, "until: Value error, must be a date written YYYY"),
        ({"since": "20250505"}, "since: Value error, must be a date written YYYY-MM-DD"),
        ({"since": "2025-05-09", "until": "2025-05-05"}, "since (2025-05-09) is after until"),
    ],
)
def test_bad_filters_are_422(client: TestClient, extra: dict[str, object], fragment: str) -> None:
    r = client.post("/ask", json={"question": QUESTION, **extra})
    assert r.status_code == 422
    assert fragment in r.json()["error"]


class _CountingVectors:
    """Vectors that record how many rows each read takes, and each product over all of them."""

    def __init__(self, array: np.ndarray) -> None:
        self.array = array
        self.reads: list[int] = []
        self.full_products = 0

    def __len__(self) -> int:
        return len(self.array)

    def __getitem__(self, rows: np.ndarray) -> np.ndarray:
        self.reads.append(len(rows))
        return self.array[rows]

    def __matmul__(self, q: np.ndarray) -> np.ndarray:
        self.full_products += 1
        return self.array @ q


@pytest.mark.parametrize("share", [0.9, 0.2, 0.001])
def test_filtered_dense_scores_never_copy_more_than_a_block_of_vectors(share: float) -> None:
    from qa.answer.retrieval import DOT_BLOCK, dot_rows

    rng = np.random.default_rng(0)
    vectors = _CountingVectors(rng.standard_normal((8 * DOT_BLOCK, 8)).astype(np.float32))
    rows = np.flatnonzero(rng.random(len(vectors.array)) < share)
    q = rng.standard_normal(8).astype(np.float32)
    scores = dot_rows(vectors, rows, q)  # type: ignore[arg-type]
    np.testing.assert_allclose(scores, vectors.array[rows] @ q, rtol=1e-5)
    assert max(vectors.reads, default=0) <= DOT_BLOCK
    # Either every selected row is read once, a block at a time, or one product covers all.
    assert sum(vectors.reads) == len(rows) or (vectors.full_products == 1 and not vectors.reads)
