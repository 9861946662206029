from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from qa.corpus.documents import read_corpus
from qa.index.build import build
from qa.index.chunking import Chunking
from qa.index.storage import load, publish
from qa.index.stores import faiss as store
from qa.index.stores.faiss import FaissStore, make_store


def unit_vectors(n: int, dim: int = 32, seed: int = 0) -> np.ndarray:
    x = np.random.default_rng(seed).standard_normal((n, dim)).astype(np.float32)
    return x / np.linalg.norm(x, axis=1, keepdims=True)


def test_small_stores_are_exact_and_large_ones_hnsw() -> None:
    assert make_store(8, 100, exact_max=1000).kind == "IndexFlatIP"
    assert make_store(8, 1000, exact_max=1000).kind == "IndexFlatIP"
    big = make_store(8, 1001, exact_max=1000)
    assert big.kind == "IndexHNSWFlat"
    assert big.describe() == {
        "type": "IndexHNSWFlat",
        "vectors": 0,
        "metric": "inner_product",
        "M": store.HNSW_M,
        "efConstruction": store.HNSW_EF_CONSTRUCTION,
        "efSearch": store.ef_search_for(1001),
    }


def test_the_search_beam_grows_with_the_store() -> None:
    beams = [store.ef_search_for(n) for n in (1, 100_000, 100_001, 1_000_000, 5_000_000)]
    assert beams == sorted(beams) and beams[0] < beams[-1]
    assert make_store(8, 200_000, exact_max=10).describe()["efSearch"] == store.ef_search_for(
        200_000
    )


def test_hnsw_rows_are_add_order_and_match_exact_search(tmp_path: Path) -> None:
    vectors = unit_vectors(2000)
    exact, approx = FaissStore(32), FaissStore.hnsw(32)
    exact.add(vectors)
    approx.add(vectors[:1000])
    approx.add(vectors[1000:])  # numbering continues across calls
    scores, rows = approx.search(vectors[[5, 1500]], 1)
    assert rows[:, 0].tolist() == [5, 1500]
    assert np.allclose(scores[:, 0], 1.0, atol=1e-5)  # inner product of a unit vector with itself
    queries = unit_vectors(50, seed=1)
    _, truth = exact.search(queries, 10)
    _, found = approx.search(queries, 10)
    recall = np.mean([len(set(f) & set(t)) / 10 for f, t in zip(found, truth, strict=True)])
    assert recall >= 0.95


@pytest.mark.parametrize("mmap", [True, False])
def test_save_load_keeps_type_parameters_and_rows(tmp_path: Path, mmap: bool) -> None:
    vectors = unit_vectors(300)
    for original in (FaissStore(32), FaissStore.hnsw(32, ef_search=77)):
        original.add(vectors)
        path = tmp_path / f"{original.kind}.faiss"
        original.save(path)
        loaded = FaissStore.load(path, mmap=mmap)
        assert loaded.describe() == original.describe()
        assert len(loaded) == 300 and loaded.dimension == 32
        assert loaded.search(vectors[:3], 1)[1][:, 0].tolist() == [0, 1, 2]


def test_search_clamps_k_to_the_store_size() -> None:
    s = FaissStore(32)
    s.add(unit_vectors(3))
    _, rows = s.search(unit_vectors(1, seed=2), 10)
    assert rows.shape == (1, 3)


def test_index_above_the_threshold_uses_hnsw_and_records_it(
    seeds_dir: Path, tmp_path: Path, fake_embedder, monkeypatch
) -> None:
    monkeypatch.setattr(store, "EXACT_MAX", 3)  # 5 sentences: HNSW; 3 chunks: exact
    docs, _ = read_corpus(seeds_dir)
    index = build(docs, fake_embedder, Chunking(2, 1))
    publish(index, tmp_path / "index")
    loaded = load(tmp_path / "index")
    recorded = loaded.manifest.store
    assert recorded["backend"] == "faiss" and recorded["type"] == "IndexHNSWFlat"
    assert recorded["sentences"]["type"] == "IndexHNSWFlat"
    assert recorded["sentences"]["efSearch"] == store.ef_search_for(5)
    assert recorded["chunks"]["type"] == "IndexFlatIP"
    assert recorded["sentences"]["vectors"] == loaded.sentence_count == 5
    query = fake_embedder.encode(["Prime Minister Shigeru Ishiba welcomed the plan."])
    _, rows = loaded.sentence_store.search(query, 1)
    assert loaded.sentence_text(int(rows[0][0])).startswith("Prime Minister Shigeru Ishiba")
