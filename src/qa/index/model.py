"""The Index: a loaded or freshly built index, and the tables derived from it for retrieval."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date
from functools import cached_property
from typing import TYPE_CHECKING, Any

import numpy as np

from qa.index.errors import IndexUnavailable

if TYPE_CHECKING:
    from numpy.typing import NDArray

    from qa.corpus.documents import Document, Span
    from qa.index.lexical import Lexical
    from qa.index.manifest import Manifest
    from qa.index.stores.base import StoreBackend, Stores, VectorStore


@dataclass
class Index:
    """A loaded index: articles, sentence and chunk tables, vectors and their stores."""

    manifest: Manifest
    documents: list[Document]
    sentence_vectors: NDArray[np.float32]
    chunk_vectors: NDArray[np.float32]
    stores: Stores
    backend: StoreBackend  # holds `stores`; saves, reopens and releases them
    lexical: Lexical
    chunk_lexical: Lexical
    # Derived tables, one row per sentence / chunk in corpus order.
    sentence_doc: NDArray[np.int32] = field(init=False)
    sentence_local: NDArray[np.int32] = field(init=False)
    doc_first_row: NDArray[np.int64] = field(init=False)
    chunk_doc: NDArray[np.int32] = field(init=False)
    chunk_first: NDArray[np.int64] = field(init=False)
    chunk_last: NDArray[np.int64] = field(init=False)
    sentence_chunks: list[list[int]] = field(init=False)
    doc_vectors: NDArray[np.float32] = field(init=False)
    sentence_para: NDArray[np.int64] = field(init=False)
    para_vectors: NDArray[np.float32] = field(init=False)
    doc_pos: dict[str, int] = field(init=False)

    def __post_init__(self) -> None:
        chunking = self.manifest.chunking
        counts = [len(d.sentences) for d in self.documents]
        self.doc_first_row = np.concatenate([[0], np.cumsum(counts)]).astype(np.int64)
        self.sentence_doc = np.repeat(np.arange(len(counts), dtype=np.int32), counts)
        self.sentence_local = np.concatenate(
            [np.arange(c, dtype=np.int32) for c in counts] or [np.zeros(0, np.int32)]
        )
        chunk_doc: list[int] = []
        firsts: list[int] = []
        lasts: list[int] = []
        for pos, count in enumerate(counts):
            base = int(self.doc_first_row[pos])
            for first, last in chunking.bounds(count):
                chunk_doc.append(pos)
                firsts.append(base + first)
                lasts.append(base + last)
        self.chunk_doc = np.asarray(chunk_doc, dtype=np.int32)
        self.chunk_first = np.asarray(firsts, dtype=np.int64)
        self.chunk_last = np.asarray(lasts, dtype=np.int64)
        if len(self.sentence_vectors) != len(self.sentence_doc) or len(self.chunk_vectors) != len(
            self.chunk_first
        ):
            raise IndexUnavailable("index tables and vectors disagree in length; rebuild the index")
        self.sentence_chunks = [[] for _ in range(len(self.sentence_doc))]
        for c, (first, last) in enumerate(zip(firsts, lasts, strict=True)):
            for row in range(first, last):
                self.sentence_chunks[row].append(c)
        self.doc_pos = {d.doc_id: i for i, d in enumerate(self.documents)}
        # Article and paragraph vectors: normalised means of their sentences' (no model call).
        keys = [(pos, s.paragraph) for pos, d in enumerate(self.documents) for s in d.sentences]
        para_ids: dict[tuple[int, int], int] = {}
        self.sentence_para = np.array(
            [para_ids.setdefault(k, len(para_ids)) for k in keys], dtype=np.int64
        )
        self.doc_vectors = _group_means(self.sentence_vectors, self.sentence_doc, len(counts))
        self.para_vectors = _group_means(self.sentence_vectors, self.sentence_para, len(para_ids))

    @cached_property
    def published_days(self) -> list[date | None]:
        """Each article's publication day, parsed once for every date-filtered question."""
        return [published_day(d.published) for d in self.documents]

    @property
    def sentence_store(self) -> VectorStore:
        return self.stores.sentences

    @property
    def chunk_store(self) -> VectorStore:
        return self.stores.chunks

    @property
    def sentence_count(self) -> int:
        return len(self.sentence_doc)

    def span(self, row: int) -> tuple[Document, Span, int]:
        """The article, span and in-article number of sentence `row`."""
        doc = self.documents[int(self.sentence_doc[row])]
        local = int(self.sentence_local[row])
        return doc, doc.sentences[local], local

    def sentence_text(self, row: int) -> str:
        doc, span, _ = self.span(row)
        return doc.text[span.start : span.end]

    def window_text(self, first_row: int, last_row: int) -> str:
        """Article text from sentence `first_row` through `last_row` (same article)."""
        doc, first, _ = self.span(first_row)
        last = self.span(last_row)[1]
        return doc.text[first.start : last.end]


def published_day(published: str | None) -> date | None:
    """The calendar date of an ISO 8601 date or date-time (as written, no time-zone shift)."""
    if not published:
        return None
    try:
        return date.fromisoformat(published[:10])
    except ValueError:
        return None


def _group_means(
    vectors: NDArray[np.float32], groups: NDArray[np.integer[Any]], n: int
) -> NDArray[np.float32]:
    """Normalised mean vector of each group of rows."""
    dim = vectors.shape[1] if vectors.ndim == 2 else 0
    sums = np.zeros((n, dim), dtype=np.float64)
    if len(vectors):
        np.add.at(sums, groups, vectors)
    norms = np.maximum(np.linalg.norm(sums, axis=1, keepdims=True), 1e-12)
    return np.asarray(sums / norms, dtype=np.float32)
