"""Vector stores behind one small interface; FAISS is the embedded default.

Vectors are L2-normalised, so inner product equals cosine similarity and a flat inner-product
index gives exact cosine search.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Protocol

import numpy as np

if TYPE_CHECKING:
    from numpy.typing import NDArray


class VectorStore(Protocol):
    """Rows are numbered 0..len-1 in the order they were added."""

    def __len__(self) -> int: ...

    def add(self, vectors: NDArray[np.float32]) -> None: ...

    def search(
        self, queries: NDArray[np.float32], k: int
    ) -> tuple[NDArray[np.float32], NDArray[np.int64]]:
        """Top-`k` (scores, row numbers) per query; missing hits have row -1."""
        ...

    def save(self, path: Path) -> None: ...


class FaissStore:
    """Exact inner-product search with FAISS (`IndexFlatIP`)."""

    def __init__(self, dimension: int, index: object | None = None) -> None:
        import faiss

        self.dimension = dimension
        self._index = index if index is not None else faiss.IndexFlatIP(dimension)

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
    def load(cls, path: Path) -> FaissStore:
        import faiss

        index = faiss.read_index(str(path))
        return cls(int(index.d), index)
