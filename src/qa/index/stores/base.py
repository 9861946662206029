"""The store interface: where an index's vectors live and are searched.

A backend (one module under `qa.index.stores`, named in `registry.BACKENDS`) holds the sentence
and chunk vectors of an index and searches them, as txtai's `ann/base.py` does for its ANN
backends. Index code (build, save, load, staleness, pruning) talks to it only through
`StoreBackend`; what the backend needs to find its data again goes into its own record in the
manifest (`Manifest.store`, with at least {"backend": name}).

Row numbers are the index's: sentence and chunk rows in corpus order, as in `Index`.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any, ClassVar, Protocol, runtime_checkable

from qa.index.errors import IndexUnavailable

if TYPE_CHECKING:
    import numpy as np
    from numpy.typing import NDArray

    from qa.core.settings import Settings
    from qa.corpus.documents import Document
    from qa.embed.model import ModelInfo
    from qa.index.chunking import Chunking
    from qa.index.manifest import Manifest


class StoreUnavailable(IndexUnavailable):
    """The store (e.g. a vector database server) cannot be reached or answered with an error."""


class VectorStore(Protocol):
    """One searchable table (sentences or chunks); rows are numbered 0..len-1."""

    def __len__(self) -> int: ...

    def search(
        self, queries: NDArray[np.float32], k: int
    ) -> tuple[NDArray[np.float32], NDArray[np.int64]]:
        """Top-`k` (scores, row numbers) per query; missing hits have row -1."""
        ...


@runtime_checkable
class TextSearchStore(VectorStore, Protocol):
    """A store that also searches the texts (full-text BM25), as Milvus does."""

    def candidates(self, query: NDArray[np.float32], text: str, k: int) -> list[int]:
        """Rows worth scoring for a question: by vector and by its words."""
        ...


@dataclass(frozen=True, slots=True)
class Contents:
    """What a backend holds: the articles, how they are chunked, and the vectors of their
    sentences and chunks in corpus order (row numbers are positions in these arrays)."""

    documents: Sequence[Document]
    chunking: Chunking
    sentence_vectors: NDArray[np.float32]
    chunk_vectors: NDArray[np.float32]


@dataclass(frozen=True, slots=True)
class Stores:
    """The two searchable tables of an index."""

    sentences: VectorStore
    chunks: VectorStore


class StoreBackend(Protocol):
    """One way to hold an index's vectors; `name` is the manifest's "backend" entry."""

    name: ClassVar[str]

    @classmethod
    def from_settings(cls, settings: Settings) -> StoreBackend:
        """The backend as configured (`QA_STORE` and the backend's own settings)."""
        ...

    @classmethod
    def from_record(cls, record: Mapping[str, Any]) -> StoreBackend:
        """The backend an index was built with, from its manifest record (to open an index
        when no configuration for this backend is given)."""
        ...

    def build(
        self, contents: Contents, model: ModelInfo, previous: Manifest | None
    ) -> tuple[Stores, dict[str, Any]]:
        """Hold `contents` and return their tables and the backend's record for the manifest
        (`previous`, the manifest of the index being replaced, says what it may already hold)."""
        ...

    def save(self, stores: Stores, folder: Path) -> None:
        """Write the tables' files, if the backend keeps any, into the version `folder`."""
        ...

    def open(self, folder: Path, manifest: Manifest, documents: Sequence[Document]) -> Stores:
        """The tables of a published index, verified to hold every row of it
        (IndexUnavailable if not; StoreUnavailable if the store cannot be reached)."""
        ...

    def stale_reason(self, record: Mapping[str, Any]) -> str | None:
        """Why an index with this backend's `record` does not match this configuration."""
        ...

    def release(self, pruned: Manifest, kept: Sequence[Manifest]) -> None:
        """Free what the pruned version held outside its folder and no kept version uses
        (best effort: never raises)."""
        ...
