"""The FAISS backend, the embedded default: each table a FAISS index file in the version folder.

Vectors are L2-normalised, so inner product equals cosine similarity and a flat inner-product
index gives exact cosine search.

`make_store` picks the FAISS index by size: exact (`IndexFlatIP`) while a scan of every vector
is cheap, an HNSW graph (`IndexHNSWFlat`, inner product) above `exact_max`, where a flat scan
would dominate a question's time (about 4 ms at 100k vectors and 40 ms at 1M on one core).
The HNSW parameters come from the scaling curve in `qa bench` (recall@10 against exact search
on vectors with the mean and covariance of real all-MiniLM-L6-v2 embeddings), the search beam
growing with the number of vectors. Both keep their vectors in
flat storage, so FAISS can memory-map them on load: several server processes then share one
copy in the page cache instead of holding one each.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any, ClassVar

import numpy as np

from qa.index.stores.base import Contents, StoreBackend, Stores, VectorStore

if TYPE_CHECKING:
    from numpy.typing import NDArray

    from qa.core.settings import Settings
    from qa.corpus.documents import Document
    from qa.embed.model import ModelInfo
    from qa.index.manifest import Manifest

SENTENCE_INDEX = "sentences.faiss"
CHUNK_INDEX = "chunks.faiss"

# A flat scan costs ~0.2 ms at 10k vectors and ~5 ms at 100k (one core, `qa bench`); up to 50k
# it stays near the cost of encoding the question and is exact.
EXACT_MAX = 50_000
# Graph degree and build beam. From the scaling curve in bench/reports/latest.md: at 1M vectors
# M=64 reached recall@10 0.995 at efSearch 1024 (10.8 ms) where M=32 needed efSearch 2048 for
# 0.981 (11.5 ms); the denser graph costs 2.3x the build time and ~250 MB more at 1M.
HNSW_M = 64
HNSW_EF_CONSTRUCTION = 100
# efSearch by size: the smallest that kept recall@10 >= 0.98 at the next size measured
# (0.992 at 100k, 0.995 at 1M); beyond 1M it is doubled, unmeasured.
HNSW_EF_SEARCH = ((100_000, 256), (1_000_000, 1024))
HNSW_EF_SEARCH_BEYOND = 2048


def ef_search_for(n: int) -> int:
    """The HNSW search beam for a store of `n` vectors."""
    return next((ef for limit, ef in HNSW_EF_SEARCH if n <= limit), HNSW_EF_SEARCH_BEYOND)


def make_store(dimension: int, n: int, exact_max: int | None = None) -> FaissStore:
    """An empty store suited to `n` vectors: exact up to `exact_max` (EXACT_MAX), HNSW above."""
    if n <= (EXACT_MAX if exact_max is None else exact_max):
        return FaissStore(dimension)
    return FaissStore.hnsw(dimension, ef_search=ef_search_for(n))


class FaissStore:
    """Inner-product search with FAISS: exact (`IndexFlatIP`) or approximate (`IndexHNSWFlat`)."""

    def __init__(self, dimension: int, index: object | None = None) -> None:
        import faiss

        self.dimension = dimension
        self._index = index if index is not None else faiss.IndexFlatIP(dimension)

    @classmethod
    def hnsw(
        cls,
        dimension: int,
        m: int = HNSW_M,
        ef_construction: int = HNSW_EF_CONSTRUCTION,
        ef_search: int = HNSW_EF_SEARCH[0][1],
    ) -> FaissStore:
        """An HNSW graph over inner product; HNSW numbers vectors in add order, as flat does."""
        import faiss

        index = faiss.IndexHNSWFlat(dimension, m, faiss.METRIC_INNER_PRODUCT)
        index.hnsw.efConstruction = ef_construction
        index.hnsw.efSearch = ef_search  # saved with the index
        return cls(dimension, index)

    @property
    def kind(self) -> str:
        """The FAISS class name, e.g. `IndexFlatIP` or `IndexHNSWFlat`."""
        return type(self._index).__name__

    def describe(self) -> dict[str, Any]:
        """Type and parameters, as recorded in the manifest."""
        out: dict[str, Any] = {"type": self.kind, "vectors": len(self)}
        hnsw = getattr(self._index, "hnsw", None)
        if hnsw is not None:
            out["metric"] = "inner_product"
            out["M"] = int(hnsw.nb_neighbors(1))  # layer 0 has 2*M links, the others M
            out["efConstruction"] = int(hnsw.efConstruction)
            out["efSearch"] = int(hnsw.efSearch)
        return out

    def __len__(self) -> int:
        return int(self._index.ntotal)  # type: ignore[attr-defined]

    def add(self, vectors: NDArray[np.float32]) -> None:
        if len(vectors):
            self._index.add(np.ascontiguousarray(vectors, dtype=np.float32))  # type: ignore[attr-defined]

    def search(
        self, queries: NDArray[np.float32], k: int
    ) -> tuple[NDArray[np.float32], NDArray[np.int64]]:
        k = max(1, min(k, len(self) or 1))
        scores, rows = self._index.search(np.ascontiguousarray(queries, dtype=np.float32), k)  # type: ignore[attr-defined]
        return scores, rows

    def save(self, path: Path) -> None:
        import faiss

        faiss.write_index(self._index, str(path))  # type: ignore[call-overload]

    @classmethod
    def load(cls, path: Path, *, mmap: bool = True) -> FaissStore:
        """Read a saved store; its vectors memory-mapped (shared between processes) if `mmap`."""
        import faiss

        if mmap:
            try:
                index = faiss.read_index(str(path), faiss.IO_FLAG_MMAP_IFC)
            except RuntimeError:  # an index type FAISS cannot map: read it into memory
                index = faiss.read_index(str(path))
        else:
            index = faiss.read_index(str(path))
        return cls(int(index.d), index)


class FaissBackend:
    """FAISS indexes saved beside the index's other files (nothing outside the folder)."""

    name: ClassVar[str] = "faiss"

    @classmethod
    def from_settings(cls, settings: Settings) -> FaissBackend:
        return cls()

    @classmethod
    def from_record(cls, record: Mapping[str, Any]) -> FaissBackend:
        return cls()

    def build(
        self, contents: Contents, model: ModelInfo, previous: Manifest | None
    ) -> tuple[Stores, dict[str, Any]]:
        sentences = make_store(model.dimension, len(contents.sentence_vectors))
        sentences.add(contents.sentence_vectors)
        chunks = make_store(model.dimension, len(contents.chunk_vectors))
        chunks.add(contents.chunk_vectors)
        record = {
            "backend": self.name,
            "type": sentences.kind,
            "exact_max": EXACT_MAX,
            "sentences": sentences.describe(),
            "chunks": chunks.describe(),
        }
        return Stores(sentences, chunks), record

    def save(self, stores: Stores, folder: Path) -> None:
        _faiss(stores.sentences).save(folder / SENTENCE_INDEX)
        _faiss(stores.chunks).save(folder / CHUNK_INDEX)

    def open(self, folder: Path, manifest: Manifest, documents: Sequence[Document]) -> Stores:
        """The saved files (verified by their sha256 in the manifest, like every index file)."""
        return Stores(
            FaissStore.load(folder / SENTENCE_INDEX), FaissStore.load(folder / CHUNK_INDEX)
        )

    def stale_reason(self, record: Mapping[str, Any]) -> str | None:
        return None  # the files travel with the index: nothing to configure

    def release(self, pruned: Manifest, kept: Sequence[Manifest]) -> None:
        """Nothing: a version's FAISS files go with its folder."""


def _faiss(table: VectorStore) -> FaissStore:
    if not isinstance(table, FaissStore):
        raise TypeError(f"the FAISS backend cannot save a {type(table).__name__}")
    return table


if TYPE_CHECKING:
    _implements: type[StoreBackend] = FaissBackend  # mypy checks it against the interface
