"""Why a built index no longer matches: seeds, model, chunking, store backend."""

from __future__ import annotations

import json
from dataclasses import replace
from pathlib import Path

from qa.index.chunking import Chunking
from qa.index.freshness import stale_reasons
from qa.index.manifest import Manifest
from qa.index.stores.milvus import MilvusBackend, MilvusConfig

WRITTEN = Path(__file__).resolve().parents[1] / "data" / "manifests"


def written(name: str) -> Manifest:
    return Manifest.from_json(json.loads((WRITTEN / name).read_text(encoding="utf-8")))


def test_a_matching_index_has_no_reasons() -> None:
    m = written("v3-faiss.json")
    assert stale_reasons(m, dict(m.sources), "f" * 64, Chunking(3, 1)) == []


def test_no_index_is_a_reason() -> None:
    assert stale_reasons(None, {}, "f" * 64, Chunking()) == ["no index yet"]


def test_each_change_is_named() -> None:
    m = written("v3-faiss.json")
    sources = {k: v for k, v in m.sources.items() if k != "quad.txt"} | {"new.txt": "0" * 64}
    sources["chips.md"] = "1" * 64
    reasons = stale_reasons(replace(m, format_version=2), sources, "a" * 64, Chunking(2, 0))
    assert reasons == [
        "index format changed",
        "embedding model changed",
        "chunking changed",
        "added: new.txt",
        "removed: quad.txt",
        "changed: chips.md",
    ]


def test_the_store_backend_and_its_configuration_count() -> None:
    faiss, milvus = written("v3-faiss.json"), written("v3-milvus.json")
    same = MilvusBackend(MilvusConfig("/tmp/idxfix/run/m.db", collection="test"))
    moved = MilvusBackend(MilvusConfig("http://milvus:19530", collection="test"))
    args = ("f" * 64, Chunking(3, 1))
    assert stale_reasons(milvus, dict(milvus.sources), *args, same) == []
    assert stale_reasons(milvus, dict(milvus.sources), *args, moved) == [
        "Milvus URI, collection or index type changed"
    ]
    assert stale_reasons(milvus, dict(milvus.sources), *args) == ["store backend changed"]
    assert stale_reasons(faiss, dict(faiss.sources), *args, same) == ["store backend changed"]
    old_layout = replace(milvus, store={**milvus.store, "layout": "one-collection-per-build"})
    assert stale_reasons(old_layout, dict(milvus.sources), *args, same) == [
        "Milvus collection layout changed"
    ]
