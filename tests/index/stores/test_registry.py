"""The store interface and its registry: a third backend, registered with one line, works through
build, publish, load, search, staleness and pruning without any index code knowing it."""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any, ClassVar

import numpy as np
import pytest

from qa.core.settings import Settings
from qa.corpus.documents import Document, read_corpus
from qa.embed.model import ModelInfo
from qa.index.build import build
from qa.index.chunking import Chunking
from qa.index.ensure import ensure_index
from qa.index.errors import IndexUnavailable
from qa.index.freshness import stale_reasons
from qa.index.layout import CURRENT, MANIFEST
from qa.index.manifest import Manifest
from qa.index.storage import load, publish
from qa.index.stores import registry
from qa.index.stores.base import Contents, Stores
from qa.index.stores.faiss import FaissBackend
from qa.index.stores.milvus import MilvusBackend, MilvusConfig
from tests.conftest import FakeEmbedder

# Stands in for a server: what each built index holds, by key, outside the index folder.
HELD: dict[str, tuple[np.ndarray, np.ndarray]] = {}


class MemoryTable:
    """Exact inner-product search with numpy."""

    def __init__(self, vectors: np.ndarray) -> None:
        self.vectors = np.asarray(vectors, dtype=np.float32)

    def __len__(self) -> int:
        return len(self.vectors)

    def search(self, queries: np.ndarray, k: int) -> tuple[np.ndarray, np.ndarray]:
        k = max(1, min(k, len(self) or 1))
        scores = np.asarray(queries, dtype=np.float32) @ self.vectors.T
        rows = np.argsort(-scores, axis=1, kind="stable")[:, :k]
        return np.take_along_axis(scores, rows, 1), rows.astype(np.int64)


class MemoryBackend:
    """A third backend, written only here: vectors "on a server" (HELD), a tag file on disk."""

    name: ClassVar[str] = "memory"

    def __init__(self, prefix: str = "mem") -> None:
        self.prefix = prefix

    @classmethod
    def from_settings(cls, settings: Settings) -> MemoryBackend:
        return cls()

    @classmethod
    def from_record(cls, record: Mapping[str, Any]) -> MemoryBackend:
        return cls(record["prefix"])

    def build(
        self, contents: Contents, model: ModelInfo, previous: Manifest | None
    ) -> tuple[Stores, dict[str, Any]]:
        key = f"{self.prefix}-{len(HELD)}"
        HELD[key] = (np.array(contents.sentence_vectors), np.array(contents.chunk_vectors))
        stores = Stores(MemoryTable(HELD[key][0]), MemoryTable(HELD[key][1]))
        return stores, {"backend": self.name, "prefix": self.prefix, "key": key}

    def save(self, stores: Stores, folder: Path) -> None:
        (folder / "memory.json").write_text(json.dumps({"rows": len(stores.sentences)}))

    def open(self, folder: Path, manifest: Manifest, documents: Sequence[Document]) -> Stores:
        key = manifest.store["key"]
        if key not in HELD:
            raise IndexUnavailable(f"memory {key} is gone; rebuild the index")
        sentences, chunks = HELD[key]
        if len(sentences) != manifest.counts.sentences:
            raise IndexUnavailable(f"memory {key} holds other rows; rebuild the index")
        return Stores(MemoryTable(sentences), MemoryTable(chunks))

    def stale_reason(self, record: Mapping[str, Any]) -> str | None:
        return None if record.get("prefix") == self.prefix else "memory prefix changed"

    def release(self, pruned: Manifest, kept: Sequence[Manifest]) -> None:
        if pruned.backend == self.name and all(
            m.store.get("key") != pruned.store["key"] for m in kept
        ):
            HELD.pop(pruned.store["key"], None)


@pytest.fixture
def memory(monkeypatch: pytest.MonkeyPatch) -> MemoryBackend:
    """The third backend, registered with one line (as a new module would be)."""
    HELD.clear()
    monkeypatch.setitem(registry.BACKENDS, "memory", f"{__name__}:MemoryBackend")
    return MemoryBackend()


def ensure(seeds: Path, index_dir: Path, embedder: FakeEmbedder, store=None):
    return ensure_index(seeds, index_dir, lambda: embedder, "f" * 64, Chunking(), store=store)


def test_a_third_backend_builds_publishes_loads_and_searches(
    seeds_dir: Path, tmp_path: Path, memory: MemoryBackend
) -> None:
    docs, _ = read_corpus(seeds_dir)
    embedder = FakeEmbedder()
    on_faiss = build(docs, embedder, Chunking())
    index = build(docs, embedder, Chunking(), store=memory)
    assert index.manifest.backend == "memory" and len(HELD) == 1
    publish(index, tmp_path / "index")
    files = json.loads((tmp_path / "index" / CURRENT / MANIFEST).read_text())["files"]
    assert "memory.json" in files and not any(name.endswith(".faiss") for name in files)
    loaded = load(tmp_path / "index")  # no backend given: the manifest's, from the registry
    assert isinstance(loaded.backend, MemoryBackend) and loaded.backend.prefix == "mem"
    queries = embedder.encode(["Who welcomed the plan?", "semiconductor investment"])
    for got, want in (
        (loaded.sentence_store, on_faiss.sentence_store),
        (loaded.chunk_store, on_faiss.chunk_store),
    ):
        got_scores, got_rows = got.search(queries, 2)
        want_scores, want_rows = want.search(queries, 2)
        np.testing.assert_allclose(got_scores, want_scores, atol=1e-5)
        assert got_rows[:, 0].tolist() == want_rows[:, 0].tolist()


def test_a_third_backend_is_checked_for_staleness_and_reopened(
    seeds_dir: Path, tmp_path: Path, memory: MemoryBackend
) -> None:
    embedder = FakeEmbedder()
    index_dir = tmp_path / "index"
    _, first = ensure(seeds_dir, index_dir, embedder, memory)
    assert first.built and first.reasons == ["no index yet"]
    texts = embedder.texts
    _, again = ensure(seeds_dir, index_dir, embedder, memory)
    assert not again.built
    _, moved = ensure(seeds_dir, index_dir, embedder, MemoryBackend("other"))
    assert moved.built and moved.reasons == ["memory prefix changed"]
    _, back = ensure(seeds_dir, index_dir, embedder)  # FAISS, the default
    assert back.built and back.reasons == ["store backend changed"]
    assert embedder.texts == texts  # every rebuild reused the vectors
    manifest = load(index_dir).manifest
    assert stale_reasons(manifest, dict(manifest.sources), "f" * 64, Chunking()) == []
    assert stale_reasons(manifest, dict(manifest.sources), "f" * 64, Chunking(), memory) == [
        "store backend changed"
    ]


def test_what_a_backend_holds_is_verified_on_load_and_rebuilt(
    seeds_dir: Path, tmp_path: Path, memory: MemoryBackend
) -> None:
    index_dir = tmp_path / "index"
    index, _ = ensure(seeds_dir, index_dir, FakeEmbedder(), memory)
    HELD.pop(index.manifest.store["key"])
    with pytest.raises(IndexUnavailable, match="gone"):
        load(index_dir)
    rebuilt, report = ensure(seeds_dir, index_dir, FakeEmbedder(), memory)
    assert report.built and rebuilt.manifest.store["key"] in HELD


def test_pruning_releases_what_only_the_pruned_version_held(
    seeds_dir: Path, tmp_path: Path, memory: MemoryBackend
) -> None:
    docs, _ = read_corpus(seeds_dir)
    keys = []
    for _ in range(3):
        index = build(docs, FakeEmbedder(), Chunking(), store=memory)
        publish(index, tmp_path / "index", keep=2)
        keys.append(index.manifest.store["key"])
    assert sorted(HELD) == sorted(keys[1:])  # the first version was pruned, and released


def test_an_unknown_backend_is_refused_and_rebuilt(seeds_dir: Path, tmp_path: Path) -> None:
    index_dir = tmp_path / "index"
    ensure(seeds_dir, index_dir, FakeEmbedder())
    path = index_dir / CURRENT / MANIFEST
    data = json.loads(path.read_text())
    data["store"]["backend"] = "tape"
    path.write_text(json.dumps(data))
    with pytest.raises(IndexUnavailable, match="unknown store backend 'tape'"):
        load(index_dir, verify=False)
    _, report = ensure(seeds_dir, index_dir, FakeEmbedder())
    assert report.built


def test_settings_pick_the_backend(tmp_path: Path) -> None:
    assert isinstance(registry.configured(Settings(store="faiss")), FaissBackend)
    milvus = registry.configured(Settings(store="milvus", milvus_uri=str(tmp_path / "m.db")))
    assert isinstance(milvus, MilvusBackend)  # configured, not connected
    assert milvus.config == MilvusConfig(str(tmp_path / "m.db"), None, "qa", "FLAT", "separate")
    assert isinstance(registry.default(), FaissBackend)


def test_an_index_opens_with_the_configured_backend_only_when_it_is_its_own() -> None:
    configured = MilvusBackend(MilvusConfig("http://milvus:19530", collection="qa"))
    record = {"backend": "milvus", "uri": "/old/milvus.db", "type": "HNSW"}
    assert registry.for_record(record, configured) is configured
    made = registry.for_record(record, FaissBackend())
    assert isinstance(made, MilvusBackend)
    assert made.config == MilvusConfig("/old/milvus.db", index_type="HNSW")
    assert isinstance(registry.for_record({"backend": "faiss"}, configured), FaissBackend)
