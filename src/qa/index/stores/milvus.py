"""The Milvus backend: the index's vectors and texts in one Milvus collection, updated in place.

The collection (`QA_MILVUS_COLLECTION` plus the model's hash) holds a row per sentence and per
chunk (field `kind`) with its dense vector, text, doc_id and character offsets, plus a sparse
BM25 vector that Milvus derives from the text (full-text search). Rows are keyed by article
*version* (`doc_key` = hash of doc_id and the article's sha256), so a write inserts the rows of
new or changed articles only, and an article's old rows stay until no kept index version uses
them (pruning, after publishing). A search maps each hit to the row numbers of the index
version it serves and skips hits of other versions, so it never mixes two versions of an
article.

The same client talks to Milvus Lite (a local file URI, embedded, one process) and to a Milvus
standalone server or cluster (`http://host:19530`). Vectors are L2-normalised, so the inner
product (metric IP) is the cosine, as with FAISS.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any, ClassVar

import numpy as np

from qa.index.errors import IndexUnavailable
from qa.index.stores.base import Contents, StoreBackend, Stores, StoreUnavailable
from qa.index.stores.milvus_collection import (
    CHUNK,
    HNSW_EF_CONSTRUCTION,
    HNSW_EF_SEARCH,
    HNSW_M,
    SENTENCE,
    TIMEOUT,
    Article,
    MilvusConfig,
    SearchMode,
    collection_name,
    connect,
    doc_key,
    release,
    short,
    sync_collection,
    verify_collection,
)

if TYPE_CHECKING:
    from numpy.typing import NDArray

    from qa.core.settings import Settings
    from qa.corpus.documents import Document
    from qa.embed.model import ModelInfo
    from qa.index.chunking import Chunking
    from qa.index.manifest import Manifest

__all__ = [
    "HNSW_EF_CONSTRUCTION",
    "HNSW_EF_SEARCH",
    "HNSW_M",
    "MilvusBackend",
    "MilvusConfig",
    "MilvusStore",
    "StoreUnavailable",
    "collection_name",
    "connect",
]

LAYOUT = "article-versions"  # rows keyed by (doc_id, sha256), updated in place
OVERFETCH = 16  # extra hits per search, for rows of article versions being replaced
RRF_K = 60


class RowMap:
    """Where the rows of each article version sit in the served index (FAISS row numbers).

    A hit whose article version is not in the map (an article replaced or deleted since, or a
    newer version being written) is skipped, so a search never mixes two versions.
    """

    def __init__(self, articles: Sequence[Article]) -> None:
        self.first: dict[str, tuple[int, int]] = {
            a.key: (a.first_sentence, a.first_chunk) for a in articles
        }
        self.counts = (
            sum(len(a.sentences) for a in articles),
            sum(len(a.chunks) for a in articles),
        )

    def row(self, key: str, kind: int, n: int) -> int:
        first = self.first.get(key)
        return -1 if first is None else first[kind] + n


class MilvusStore:
    """Dense and BM25 search over one kind (sentences or chunks) of a collection."""

    def __init__(
        self,
        client: Any,
        collection: str,
        kind: int,
        rows: RowMap,
        uri: str = "",
        ef: int = 0,
        mode: SearchMode = "separate",
    ) -> None:
        self._client = client
        self.mode = mode
        self.collection = collection
        self.kind = kind
        self._rows = rows
        self._count = rows.counts[kind]
        self._uri = uri
        self._ef = ef  # HNSW beam width at search time; 0 for FLAT

    def __len__(self) -> int:
        return self._count

    def search(
        self, queries: NDArray[np.float32], k: int
    ) -> tuple[NDArray[np.float32], NDArray[np.int64]]:
        k = max(1, min(k, self._count or 1))
        params: dict[str, Any] = {"metric_type": "IP"}
        if self._ef:
            params["params"] = {"ef": max(self._ef, k + OVERFETCH)}
        hits = self._call(
            "search",
            self._client.search,
            self.collection,
            data=np.asarray(queries, dtype=np.float32).tolist(),
            anns_field="dense",
            limit=k + OVERFETCH,
            filter=f"kind == {self.kind}",
            output_fields=["doc_key", "n"],
            search_params=params,
        )
        scores = np.full((len(queries), k), -np.inf, dtype=np.float32)
        rows = np.full((len(queries), k), -1, dtype=np.int64)
        for q, found in enumerate(hits):
            for j, (row, score) in enumerate(self._resolve(found, k)):
                rows[q, j] = row
                scores[q, j] = score
        return scores, rows

    def text_search(self, text: str, k: int) -> list[tuple[int, float]]:
        """Milvus BM25 full-text search: (row, score) best first."""
        hits = self._call(
            "full-text search",
            self._client.search,
            self.collection,
            data=[text],
            anns_field="sparse",
            limit=max(1, k) + OVERFETCH,
            filter=f"kind == {self.kind}",
            output_fields=["doc_key", "n"],
            search_params={"metric_type": "BM25"},
        )
        # Milvus Lite reports BM25 as a negative distance (order is right); servers positive.
        return [(row, abs(score)) for row, score in self._resolve(hits[0], max(1, k))]

    def candidates(self, query: NDArray[np.float32], text: str, k: int) -> list[int]:
        """Rows worth scoring for a question: its `k` nearest by vector and `k` best by BM25
        (two searches), or the best `2k` of both fused by reciprocal rank (one hybrid search)."""
        if self.mode == "separate":
            _, rows = self.search(query[None, :], k)
            found = {int(r) for r in rows[0] if r >= 0}
            found.update(row for row, _ in self.text_search(text, k))
            return sorted(found)
        from pymilvus import AnnSearchRequest, RRFRanker

        expr = f"kind == {self.kind}"
        dense: dict[str, Any] = {"metric_type": "IP"}
        if self._ef:
            dense["params"] = {"ef": max(self._ef, k + OVERFETCH)}
        requests = [
            AnnSearchRequest([query.tolist()], "dense", dense, k + OVERFETCH, expr=expr),
            AnnSearchRequest([text], "sparse", {"metric_type": "BM25"}, k + OVERFETCH, expr=expr),
        ]
        hits = self._call(
            "hybrid search",
            self._client.hybrid_search,
            self.collection,
            requests,
            RRFRanker(RRF_K),
            limit=2 * k + OVERFETCH,
            output_fields=["doc_key", "n"],
        )
        return sorted(row for row, _ in self._resolve(hits[0], 2 * k))

    def _resolve(self, found: Any, k: int) -> list[tuple[int, float]]:
        out: list[tuple[int, float]] = []
        for hit in found:
            entity = hit.get("entity", hit)
            row = self._rows.row(str(entity["doc_key"]), self.kind, int(entity["n"]))
            if row >= 0:
                out.append((row, float(hit["distance"])))
                if len(out) == k:
                    break
        return out

    def _call(self, what: str, fn: Any, *args: Any, **kwargs: Any) -> Any:
        try:
            return fn(*args, timeout=TIMEOUT, **kwargs)
        except Exception as err:
            raise StoreUnavailable(
                f"Milvus {what} on collection {self.collection} at {self._uri} failed "
                f"({short(err)})"
            ) from err


class MilvusBackend:
    """One Milvus collection per model, shared by every index version and updated in place."""

    name: ClassVar[str] = "milvus"

    def __init__(self, config: MilvusConfig) -> None:
        self.config = config

    @classmethod
    def from_settings(cls, settings: Settings) -> MilvusBackend:
        """`QA_MILVUS_URI` (a Milvus Lite file, made absolute, or a server URI), token,
        collection prefix, index type and search mode."""
        uri = settings.milvus_uri
        if not uri.startswith(("http://", "https://", "tcp://", "unix:")):
            uri = str(Path(uri).expanduser().resolve())  # Lite: a file, fixed whatever the cwd
        config = MilvusConfig(
            uri,
            settings.milvus_token,
            settings.milvus_collection,
            settings.milvus_index,
            settings.milvus_search,
        )
        return cls(config)

    @classmethod
    def from_record(cls, record: Mapping[str, Any]) -> MilvusBackend:
        return cls(MilvusConfig(record["uri"], index_type=record.get("type", "FLAT")))

    def build(
        self, contents: Contents, model: ModelInfo, previous: Manifest | None
    ) -> tuple[Stores, dict[str, Any]]:
        config = self.config
        props = {"qa.model": model.name, "qa.weights_sha256": model.weights_sha256}
        name = collection_name(config, model.weights_sha256)
        present: set[str] = set()
        if previous is not None:
            info = previous.store
            if info.get("layout") == LAYOUT and info.get("collection") == name:
                present = {doc_key(d, h) for d, h in previous.articles.items()}
        articles = _articles(contents.documents, contents.chunking)
        name, inserted = sync_collection(
            config, articles, contents.sentence_vectors, contents.chunk_vectors, props, present
        )
        stores = self._stores(name, RowMap(articles))
        record = {
            "backend": self.name,
            "layout": LAYOUT,
            "uri": config.uri,
            "collection": name,
            "prefix": config.collection,
            "type": config.index_type,
            "metric": "IP",
            "sentences": len(stores.sentences),
            "chunks": len(stores.chunks),
            "rows_inserted": inserted,
        }
        return stores, record

    def save(self, stores: Stores, folder: Path) -> None:
        """Nothing to write: the vectors live in Milvus and the manifest names the collection."""

    def open(self, folder: Path, manifest: Manifest, documents: Sequence[Document]) -> Stores:
        info = manifest.store
        if info.get("layout") != LAYOUT:
            raise IndexUnavailable("the index uses an older Milvus layout; rebuild it")
        articles = _articles(documents, manifest.chunking)
        name = info["collection"]
        verify_collection(self.config, name, manifest.model.weights_sha256, articles)
        return self._stores(name, RowMap(articles))

    def stale_reason(self, record: Mapping[str, Any]) -> str | None:
        config = self.config
        if record.get("layout") != LAYOUT:
            return "Milvus collection layout changed"
        if (
            record.get("uri") != config.uri
            or record.get("prefix") != config.collection
            or record.get("type") != config.index_type
        ):
            return "Milvus URI, collection or index type changed"
        return None

    def release(self, pruned: Manifest, kept: Sequence[Manifest]) -> None:
        """Free what a pruned version held in Milvus and no kept version uses: its whole
        collection (another model or layout), or the rows of its article versions."""
        if pruned.backend != self.name:
            return
        try:
            client = connect(self.config)
        except StoreUnavailable:
            return  # best effort: the next prune retries
        name = pruned.store["collection"]
        users = [m for m in kept if m.store.get("collection") == name]
        if not users:
            release(client, name, None)
            return
        live = {doc_key(d, h) for m in users for d, h in m.articles.items()}
        mine = {doc_key(d, h) for d, h in pruned.articles.items()}
        release(client, name, sorted(mine - live))

    def _stores(self, name: str, rows: RowMap) -> Stores:
        client = connect(self.config)
        ef = HNSW_EF_SEARCH if self.config.index_type == "HNSW" else 0
        search = self.config.search
        return Stores(
            MilvusStore(client, name, SENTENCE, rows, self.config.uri, ef, search),
            MilvusStore(client, name, CHUNK, rows, self.config.uri, ef, search),
        )


def _articles(documents: Sequence[Document], chunking: Chunking) -> list[Article]:
    """Each article's rows for the collection, with where its vectors are in the index."""
    out = []
    first_sentence = first_chunk = 0
    for doc in documents:
        spans = [(s.start, s.end) for s in doc.sentences]
        chunks = chunking.spans(doc)
        out.append(
            Article(
                doc_key(doc.doc_id, doc.sha256),
                doc.doc_id,
                doc.text,
                spans,
                chunks,
                first_sentence,
                first_chunk,
            )
        )
        first_sentence += len(spans)
        first_chunk += len(chunks)
    return out


if TYPE_CHECKING:
    _implements: type[StoreBackend] = MilvusBackend  # mypy checks it against the interface
