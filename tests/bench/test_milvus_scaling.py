"""The Milvus scaling study's own arithmetic (the study itself takes hours: docs/scaling.md):
unit vectors, recall@10 against exact search, and one table row per run."""

from __future__ import annotations

import numpy as np

from qa.bench.milvus_scaling import DIM, K, _recall, _vectors, markdown


def test_vectors_are_unit_length_and_reproducible() -> None:
    vectors = _vectors(250, seed=3)
    assert vectors.shape == (250, DIM) and vectors.dtype == np.float32
    assert np.allclose(np.linalg.norm(vectors, axis=1), 1.0, atol=1e-5)
    assert np.array_equal(vectors, _vectors(250, seed=3))
    assert not np.array_equal(vectors, _vectors(250, seed=4))


def test_recall_counts_the_exact_top_ten_found_in_any_order() -> None:
    base = _vectors(100, seed=0)
    queries = base[:4]
    exact = np.argsort(-(queries @ base.T), axis=1)[:, :K]
    assert _recall([list(r[::-1]) for r in exact], base, queries) == 1.0
    half = [list(r[: K // 2]) for r in exact]  # a search that returns fewer hits than asked
    assert _recall(half, base, queries) == 0.5


def test_markdown_has_one_row_per_run_and_shows_errors() -> None:
    ok = {
        "n": 10_000,
        "index": "HNSW",
        "backend": "milvus",
        "build_s": 12.34,
        "p50_ms": 1.234,
        "p95_ms": 5.678,
        "recall_at_10": 0.98765,
        "client_rss_mb": 100.4,
        "server_rss_mb": 200.4,
    }
    exact = {**ok, "index": "FLAT", "recall_at_10": None}
    failed = {"n": 1_000_000, "index": "HNSW", "backend": "milvus", "error": "out of memory"}
    lines = markdown([ok, exact, failed]).splitlines()
    assert lines[2] == "| 10,000 | HNSW | milvus | 12.3 | 1.23 | 5.68 | 0.988 | 301 |"
    assert lines[3] == "| 10,000 | FLAT | milvus | 12.3 | 1.23 | 5.68 |  | 301 |"
    assert lines[4] == "| 1000000 | HNSW | milvus | error: out of memory |"
