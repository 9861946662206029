"""The Milvus backend on Milvus Lite (a local file): the same round trip and writes as FAISS."""

from __future__ import annotations

import shutil
import time
from pathlib import Path

import numpy as np
import pytest

from qa.core.settings import Settings
from qa.corpus.seeds import article_from_text
from qa.engine.engine import Engine
from qa.index.chunking import Chunking
from qa.index.ensure import ensure_index
from qa.index.errors import IndexUnavailable
from qa.index.manifest import read_manifest
from qa.index.storage import load
from qa.index.stores.base import StoreUnavailable
from qa.index.stores.milvus import MilvusBackend, MilvusConfig, connect
from tests.conftest import FakeEmbedder


@pytest.fixture
def milvus(tmp_path: Path) -> MilvusConfig:
    return MilvusConfig(str(tmp_path / "milvus.db"), collection="test")


def _ensure(seeds: Path, index_dir: Path, embedder: FakeEmbedder, milvus: MilvusConfig | None):
    return ensure_index(
        seeds,
        index_dir,
        lambda: embedder,
        embedder.fingerprint.weights_sha256,
        Chunking(),
        store=None if milvus is None else MilvusBackend(milvus),
    )


def test_round_trip_matches_faiss(seeds_dir: Path, tmp_path: Path, milvus: MilvusConfig):
    embedder = FakeEmbedder()
    faiss_index, _ = _ensure(seeds_dir, tmp_path / "faiss", embedder, None)
    _, report = _ensure(seeds_dir, tmp_path / "milvus", embedder, milvus)
    assert report.built
    manifest = read_manifest(tmp_path / "milvus")
    assert manifest is not None and manifest.backend == "milvus"
    assert not list((tmp_path / "milvus" / "current").glob("*.faiss"))
    loaded = load(tmp_path / "milvus", store=MilvusBackend(milvus))
    assert len(loaded.sentence_store) == faiss_index.sentence_count
    queries = embedder.encode(["Who welcomed the plan?", "semiconductor investment"])
    for store, reference in (
        (loaded.sentence_store, faiss_index.sentence_store),
        (loaded.chunk_store, faiss_index.chunk_store),
    ):
        got_scores, got_rows = store.search(queries, 3)
        want_scores, want_rows = reference.search(queries, 3)
        np.testing.assert_allclose(got_scores, want_scores, atol=1e-5)
        # Equal scores may come in either order; the sets per query must agree.
        assert [set(r) for r in got_rows.tolist()] == [set(r) for r in want_rows.tolist()]


def test_full_text_search_finds_the_rare_word(
    seeds_dir: Path, tmp_path: Path, milvus: MilvusConfig
):
    index, _ = _ensure(seeds_dir, tmp_path / "index", FakeEmbedder(), milvus)
    hits = index.sentence_store.text_search("Gujarat factories", 2)  # type: ignore[attr-defined]
    assert hits and "Gujarat" in index.sentence_text(hits[0][0])
    assert hits[0][1] > 0


def test_switching_backend_rebuilds_without_reembedding(
    seeds_dir: Path, tmp_path: Path, milvus: MilvusConfig
):
    embedder = FakeEmbedder()
    _ensure(seeds_dir, tmp_path / "index", embedder, None)
    texts = embedder.texts
    _, report = _ensure(seeds_dir, tmp_path / "index", embedder, milvus)
    assert report.built and "store backend changed" in report.reasons
    assert embedder.texts == texts  # vectors reused from the FAISS index
    _, again = _ensure(seeds_dir, tmp_path / "index", embedder, milvus)
    assert not again.built


def test_collection_of_another_model_or_missing_is_refused(
    seeds_dir: Path, tmp_path: Path, milvus: MilvusConfig
):
    index_dir = tmp_path / "index"
    index, _ = _ensure(seeds_dir, index_dir, FakeEmbedder(), milvus)
    name = index.manifest.store["collection"]
    client = connect(milvus)
    client.alter_collection_properties(name, properties={"qa.weights_sha256": "0" * 64})
    with pytest.raises(IndexUnavailable, match="another model"):
        load(index_dir, store=MilvusBackend(milvus))
    client.drop_collection(name)
    with pytest.raises(IndexUnavailable, match="missing"):
        load(index_dir, store=MilvusBackend(milvus))
    # ... and start-up rebuilds it rather than failing.
    rebuilt, report = _ensure(seeds_dir, index_dir, FakeEmbedder(), milvus)
    assert report.built and rebuilt.manifest.store["collection"] == name
    assert load(index_dir, store=MilvusBackend(milvus)).sentence_count == index.sentence_count


def test_a_collection_of_another_model_is_never_written_to(
    seeds_dir: Path, tmp_path: Path, milvus: MilvusConfig
):
    index, _ = _ensure(seeds_dir, tmp_path / "index", FakeEmbedder(), milvus)
    name = index.manifest.store["collection"]
    client = connect(milvus)
    client.alter_collection_properties(name, properties={"qa.weights_sha256": "0" * 64})

    def content() -> tuple[list[tuple[str, str, str]], dict[str, str]]:
        rows = client.query(
            name, filter='id != ""', output_fields=["id", "doc_key", "text"], limit=16_384
        )
        props = client.describe_collection(name).get("properties", {})
        return sorted((r["id"], r["doc_key"], r["text"]) for r in rows), dict(props)

    before = content()
    assert len(before[0]) == index.sentence_count + len(index.chunk_doc) > 0
    # Another index over more articles would insert rows (and delete its own keys first).
    other_seeds = tmp_path / "other-seeds"
    shutil.copytree(seeds_dir, other_seeds)
    (other_seeds / "extra.txt").write_text("Zebras crossed the road. Forty of them.\n")
    with pytest.raises(IndexUnavailable, match="another model"):
        _ensure(other_seeds, tmp_path / "other", FakeEmbedder(), milvus)
    assert content() == before


def test_unreachable_server_is_a_clear_error_not_a_hang():
    started = time.monotonic()
    config = MilvusConfig("http://127.0.0.1:9", collection="x")
    with pytest.raises(StoreUnavailable, match="unreachable"):
        connect(config)
    assert time.monotonic() - started < 30


def _rows_of(milvus: MilvusConfig, name: str, doc_id: str) -> dict[str, int]:
    """Rows of `doc_id` in the collection, counted per article version (doc_key)."""
    found = connect(milvus).query(
        name, filter=f'doc_id == "{doc_id}"', output_fields=["doc_key"], limit=10_000
    )
    counts: dict[str, int] = {}
    for row in found:
        counts[row["doc_key"]] = counts.get(row["doc_key"], 0) + 1
    return counts


def _engine_settings(seeds: Path, tmp_path: Path, milvus: MilvusConfig, collection: str):
    return Settings(
        seeds_dir=seeds,
        index_dir=tmp_path / "index",
        store="milvus",
        milvus_uri=milvus.uri,
        milvus_collection=collection,
    )


def _article(text: str, doc_id: str = "bridge") -> object:
    return article_from_text(text, doc_id=doc_id, title=None, max_bytes=10_000)


def test_writes_update_the_collection_in_place(
    seeds_dir: Path, tmp_path: Path, milvus: MilvusConfig
):
    settings = _engine_settings(seeds_dir, tmp_path, milvus, "inplace")
    engine, _ = Engine.open(settings, embedder=FakeEmbedder())
    name = engine.index.manifest.store["collection"]
    seed_rows = engine.index.manifest.store["rows_inserted"]
    assert seed_rows == len(engine.index.sentence_store) + len(engine.index.chunk_store)
    v1 = "The harbour bridge reopened on Monday. Repairs cost 40 million euros."
    v2 = "The harbour bridge reopened on Tuesday. Repairs cost 45 million euros. It is wider."
    engine.write([_article(v1)])
    first = engine.index
    # Only the new article was written, into the same collection.
    assert first.manifest.store["collection"] == name
    assert first.manifest.store["rows_inserted"] == 2 + 1  # 2 sentences, 1 chunk
    engine.write([_article(v2)])
    second = engine.index
    assert second.manifest.store["rows_inserted"] == 3 + 1
    # Both versions' rows are there (the previous index version is kept), and each index
    # version finds only its own.
    assert sorted(_rows_of(milvus, name, "bridge").values()) == [3, 4]
    for index, want, other in ((first, "Monday", "Tuesday"), (second, "Tuesday", "Monday")):
        _scores, rows = index.sentence_store.search(FakeEmbedder().encode(["bridge"]), 50)
        texts = [index.sentence_text(int(r)) for r in rows[0] if r >= 0]
        assert len(texts) == index.sentence_count
        assert any(want in t for t in texts)
        assert not any(other in t for t in texts)
        hits = index.sentence_store.text_search("bridge reopened", 5)  # type: ignore[attr-defined]
        assert want in index.sentence_text(hits[0][0])
    # A third version prunes the first version's index, and with it v1's rows.
    engine.write([_article(v2 + " Cyclists are pleased.")])
    assert len(_rows_of(milvus, name, "bridge")) == 2
    # Deleting it leaves its rows to the kept previous version until that is pruned too.
    engine.remove(["bridge"])
    assert len(_rows_of(milvus, name, "bridge")) == 1
    engine.write([_article("The library opens late on Thursdays.", "library")])
    assert _rows_of(milvus, name, "bridge") == {}
    assert engine.index.sentence_count == len(engine.index.sentence_store)


def test_rows_left_by_an_interrupted_write_are_replaced(
    seeds_dir: Path, tmp_path: Path, milvus: MilvusConfig
):
    from qa.index.stores.milvus import collection_name

    embedder = FakeEmbedder()
    index, _ = _ensure(seeds_dir, tmp_path / "index", embedder, milvus)
    name = collection_name(milvus, embedder.fingerprint.weights_sha256)
    client = connect(milvus)
    # Half of the article's rows vanish, as if a write died midway and left only some.
    some = client.query(name, filter="kind == 0", output_fields=["id"], limit=10_000)
    client.delete(name, ids=[r["id"] for r in some[::2]])
    with pytest.raises(IndexUnavailable, match="rebuild"):
        load(tmp_path / "index", store=MilvusBackend(milvus))
    # A fresh build (no published index to trust) deletes the leftovers and writes all rows.
    _rebuilt, report = _ensure(seeds_dir, tmp_path / "index", embedder, milvus)
    assert report.built
    assert (
        load(tmp_path / "index", store=MilvusBackend(milvus)).sentence_count == index.sentence_count
    )


def test_engine_writes_are_visible_to_the_next_question(
    seeds_dir: Path, tmp_path: Path, milvus: MilvusConfig
):
    settings = _engine_settings(seeds_dir, tmp_path, milvus, "engine")
    assert MilvusBackend.from_settings(settings).config == MilvusConfig(
        milvus.uri, None, "engine", "FLAT"
    )
    engine, _ = Engine.open(settings, embedder=FakeEmbedder())
    text = "The harbour bridge reopened on Monday after repairs costing 40 million euros."
    article = article_from_text(text, doc_id="bridge", title=None, max_bytes=10_000)
    engine.write([article])
    assert engine.index.manifest.backend == "milvus"
    answer = engine.ask("When did the harbour bridge reopen?")
    assert any(c.doc_id == "bridge" for c in answer.citations)
    engine.remove(["bridge"])
    answer = engine.ask("When did the harbour bridge reopen?")
    assert all(c.doc_id != "bridge" for c in answer.citations)
    assert engine.index.sentence_count == len(engine.index.sentence_store)


def test_filters_restrict_answers_on_milvus_too(
    seeds_dir: Path, tmp_path: Path, milvus: MilvusConfig
):
    from qa.answer.filters import ArticleFilter

    settings = _engine_settings(seeds_dir, tmp_path, milvus, "filters")
    engine, _ = Engine.open(settings, embedder=FakeEmbedder())
    question = "Where will semiconductor factories open?"
    assert any(c.doc_id == "chips" for c in engine.ask(question, 5).citations)
    only_quad = engine.ask(question, 5, ArticleFilter(doc_ids=frozenset({"quad"})))
    assert only_quad.citations and {c.doc_id for c in only_quad.citations} == {"quad"}


def test_a_failing_store_answers_503_not_500(seeds_dir: Path, tmp_path: Path, milvus):
    from fastapi.testclient import TestClient

    from qa.service.app import create_app

    settings = Settings(
        seeds_dir=seeds_dir, index_dir=tmp_path / "index", store="milvus", milvus_uri=milvus.uri
    )
    engine, _ = Engine.open(settings, embedder=FakeEmbedder())
    store = engine.index.sentence_store

    def down(*_args, **_kwargs):
        raise StoreUnavailable("Milvus search failed (connection refused)")

    store.search = down  # type: ignore[method-assign]
    with TestClient(create_app(settings, engine)) as client:
        response = client.post("/ask", json={"question": "Who welcomed the plan?"})
    assert response.status_code == 503
    assert "vector store" in response.json()["error"]


@pytest.mark.parametrize("mode", ["separate", "hybrid"])
def test_candidates_come_from_milvus_full_text_search_too(
    seeds_dir: Path, tmp_path: Path, mode: str
):
    milvus = MilvusConfig(str(tmp_path / "m.db"), collection="cand", search=mode)  # type: ignore[arg-type]
    embedder = FakeEmbedder()
    index, _ = _ensure(seeds_dir, tmp_path / "index", embedder, milvus)
    gujarat = next(r for r in range(index.sentence_count) if "Gujarat" in index.sentence_text(r))
    # A vector pointing nowhere near the sentence: only the words can find it.
    away = -index.sentence_vectors[gujarat]
    store = index.sentence_store
    assert gujarat not in store.search(away[None, :], 2)[1][0]
    found = store.candidates(away, "Gujarat factories", 2)  # type: ignore[attr-defined]
    assert gujarat in found
    assert len(found) <= 4 and all(0 <= r < index.sentence_count for r in found)


def test_milvus_lite_logs_no_tracebacks(seeds_dir: Path, tmp_path: Path, caplog):
    import logging

    milvus = MilvusConfig(str(tmp_path / "quiet.db"), collection="quiet")
    with caplog.at_level(logging.INFO):
        index, _ = _ensure(seeds_dir, tmp_path / "index", FakeEmbedder(), milvus)
        index.sentence_store.search(FakeEmbedder().encode(["summit"]), 3)
    assert not [r for r in caplog.records if r.levelno >= logging.ERROR], caplog.text
