"""The Milvus backend on Milvus Lite (a local file): the same round trip and writes as FAISS."""

from __future__ import annotations

import time
from pathlib import Path

import numpy as np
import pytest

pytest.importorskip("pymilvus")

from qa.config import Settings
from qa.engine import Engine
from qa.index import (
    Chunking,
    IndexUnavailable,
    build,
    ensure_index,
    load,
    publish,
    read_manifest,
)
from qa.library import article_from_text
from qa.milvus_store import MilvusConfig, StoreUnavailable, connect, milvus_config
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
        milvus=milvus,
    )


def test_round_trip_matches_faiss(seeds_dir: Path, tmp_path: Path, milvus: MilvusConfig):
    embedder = FakeEmbedder()
    faiss_index, _ = _ensure(seeds_dir, tmp_path / "faiss", embedder, None)
    _, report = _ensure(seeds_dir, tmp_path / "milvus", embedder, milvus)
    assert report.built
    manifest = read_manifest(tmp_path / "milvus")
    assert manifest is not None and manifest["store"]["backend"] == "milvus"
    assert not list((tmp_path / "milvus" / "current").glob("*.faiss"))
    loaded = load(tmp_path / "milvus", milvus=milvus)
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
    name = index.manifest["store"]["collection"]
    client = connect(milvus)
    client.alter_collection_properties(name, properties={"qa.weights_sha256": "0" * 64})
    with pytest.raises(IndexUnavailable, match="another model"):
        load(index_dir, milvus=milvus)
    client.drop_collection(name)
    with pytest.raises(IndexUnavailable, match="missing"):
        load(index_dir, milvus=milvus)
    # ... and start-up rebuilds it rather than failing.
    rebuilt, report = _ensure(seeds_dir, index_dir, FakeEmbedder(), milvus)
    assert report.built and rebuilt.manifest["store"]["collection"] != name


def test_unreachable_server_is_a_clear_error_not_a_hang():
    started = time.monotonic()
    config = MilvusConfig("http://127.0.0.1:9", collection="x")
    with pytest.raises(StoreUnavailable, match="unreachable"):
        connect(config)
    assert time.monotonic() - started < 30


def test_publish_drops_the_collections_of_pruned_versions(
    seeds_dir: Path, tmp_path: Path, milvus: MilvusConfig
):
    embedder = FakeEmbedder()
    from qa.corpus import read_corpus

    documents, _ = read_corpus(seeds_dir)
    names = []
    for _ in range(3):
        index = build(documents, embedder, Chunking(), milvus=milvus)
        publish(index, tmp_path / "index", keep=2)
        names.append(index.manifest["store"]["collection"])
    left = set(connect(milvus).list_collections())
    assert names[0] not in left and {names[1], names[2]} <= left


def test_engine_writes_are_visible_to_the_next_question(
    seeds_dir: Path, tmp_path: Path, milvus: MilvusConfig
):
    settings = Settings(
        seeds_dir=seeds_dir,
        index_dir=tmp_path / "index",
        store="milvus",
        milvus_uri=milvus.uri,
        milvus_collection="engine",
    )
    assert milvus_config(settings) == MilvusConfig(milvus.uri, None, "engine", "FLAT")
    engine, _ = Engine.open(settings, embedder=FakeEmbedder())
    text = "The harbour bridge reopened on Monday after repairs costing 40 million euros."
    article = article_from_text(text, doc_id="bridge", title=None, max_bytes=10_000)
    engine.write([article])
    assert engine.index.manifest["store"]["backend"] == "milvus"
    answer = engine.ask("When did the harbour bridge reopen?")
    assert any(c.doc_id == "bridge" for c in answer.citations)
    engine.remove(["bridge"])
    answer = engine.ask("When did the harbour bridge reopen?")
    assert all(c.doc_id != "bridge" for c in answer.citations)
    assert engine.index.sentence_count == len(engine.index.sentence_store)


def test_a_failing_store_answers_503_not_500(seeds_dir: Path, tmp_path: Path, milvus):
    from fastapi.testclient import TestClient

    from qa.api import create_app

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
