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

import hashlib
import json
import logging
import threading
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal

import numpy as np

from qa.index.index import IndexUnavailable

if TYPE_CHECKING:
    from numpy.typing import NDArray

    from qa.core.settings import Settings

SENTENCE, CHUNK = 0, 1
KEY_CHARS = 32  # hex digits of an article version's key (sha256 of doc_id and text hash)
OVERFETCH = 16  # extra hits per search, for rows of article versions being replaced
FILTER_KEYS = 500  # keys per `doc_key in [...]` filter
MAX_TEXT_BYTES = 65_535  # VARCHAR limit; longer chunk texts are cut for BM25 only
INSERT_ROWS = 1_000
TIMEOUT = 10.0  # seconds for any one call: a dead server fails a question, it does not hang it
HNSW_M = 32  # the FAISS backend's graph parameters, so the two backends search alike
HNSW_EF_CONSTRUCTION = 80
HNSW_EF_SEARCH = 128
IndexType = Literal["FLAT", "HNSW"]
SearchMode = Literal["separate", "hybrid"]
RRF_K = 60


class StoreUnavailable(IndexUnavailable):
    """The Milvus server cannot be reached or answered with an error."""


@dataclass(frozen=True, slots=True)
class MilvusConfig:
    """Where the collection lives: a local file (Milvus Lite) or a server URI."""

    uri: str
    token: str | None = None
    collection: str = "qa"
    index_type: IndexType = "FLAT"
    search: SearchMode = "separate"

    @property
    def is_lite(self) -> bool:
        return not self.uri.startswith(("http://", "https://", "tcp://", "unix:"))


def milvus_config(settings: Settings) -> MilvusConfig | None:
    """The Milvus settings when QA_STORE=milvus, else None (FAISS)."""
    if settings.store != "milvus":
        return None
    uri = settings.milvus_uri
    if not uri.startswith(("http://", "https://", "tcp://", "unix:")):
        uri = str(Path(uri).expanduser().resolve())  # Lite: a file, fixed whatever the cwd
    return MilvusConfig(
        uri,
        settings.milvus_token,
        settings.milvus_collection,
        settings.milvus_index,
        settings.milvus_search,
    )


_clients: dict[tuple[str, str | None], Any] = {}
_clients_lock = threading.Lock()


def connect(config: MilvusConfig) -> Any:
    """A client for `config.uri`, shared within the process; StoreUnavailable if unreachable."""
    key = (config.uri, config.token)
    with _clients_lock:
        client = _clients.get(key)
        if client is None:
            try:
                from pymilvus import MilvusClient

                if config.is_lite:
                    Path(config.uri).parent.mkdir(parents=True, exist_ok=True)
                    # Milvus Lite's in-process gRPC shim logs a traceback each time the client
                    # tries a call it does not implement (AllocTimestamp, during flushes); the
                    # client falls back, so these are noise, not errors.
                    logging.getLogger("grpc._server").setLevel(logging.CRITICAL)
                client = MilvusClient(uri=config.uri, token=config.token or "", timeout=TIMEOUT)
            except Exception as err:
                raise StoreUnavailable(
                    f"Milvus at {config.uri} is unreachable ({_short(err)}); check QA_MILVUS_URI"
                    " and QA_MILVUS_TOKEN, and that the server is running"
                ) from err
            _clients[key] = client
        return client


def _short(err: BaseException) -> str:
    text = str(err).strip().splitlines()[0] if str(err).strip() else type(err).__name__
    return text[:300]


def doc_key(doc_id: str, sha256: str) -> str:
    """The key of one version of one article: its rows are written once and never changed."""
    return hashlib.sha256(f"{doc_id}\0{sha256}".encode()).hexdigest()[:KEY_CHARS]


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

    def add(self, vectors: NDArray[np.float32]) -> None:
        """Rows need their article and text: they are written by `sync_collection`."""
        raise NotImplementedError(
            "Milvus rows are written by qa.index.stores.milvus.sync_collection"
        )

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

    def save(self, path: Path) -> None:
        """Nothing to write: the vectors live in Milvus and the manifest names the collection."""

    def _call(self, what: str, fn: Any, *args: Any, **kwargs: Any) -> Any:
        try:
            return fn(*args, timeout=TIMEOUT, **kwargs)
        except Exception as err:
            raise StoreUnavailable(
                f"Milvus {what} on collection {self.collection} at {self._uri} failed "
                f"({_short(err)})"
            ) from err


def _row(
    key: str, kind: int, n: int, vec: Any, doc_id: str, start: int, end: int, text: str
) -> dict[str, Any]:
    data = text.encode("utf-8")
    if len(data) > MAX_TEXT_BYTES:
        text = data[:MAX_TEXT_BYTES].decode("utf-8", errors="ignore")
    return {
        "id": f"{key}:{kind}:{n}",
        "kind": kind,
        "doc_key": key,
        "n": n,
        "doc_id": doc_id,
        "start": start,
        "end": end,
        "text": text,
        "dense": vec.tolist() if hasattr(vec, "tolist") else list(vec),
    }


def _create(client: Any, config: MilvusConfig, name: str, dim: int, props: dict[str, str]) -> None:
    from pymilvus import DataType, Function, FunctionType

    schema = client.create_schema(auto_id=False, enable_dynamic_field=False)
    schema.add_field("id", DataType.VARCHAR, is_primary=True, max_length=64)
    schema.add_field("kind", DataType.INT8)
    schema.add_field("doc_key", DataType.VARCHAR, max_length=KEY_CHARS)
    schema.add_field("n", DataType.INT64)
    schema.add_field("doc_id", DataType.VARCHAR, max_length=1024)
    schema.add_field("start", DataType.INT64)
    schema.add_field("end", DataType.INT64)
    schema.add_field("text", DataType.VARCHAR, max_length=MAX_TEXT_BYTES, enable_analyzer=True)
    schema.add_field("sparse", DataType.SPARSE_FLOAT_VECTOR)
    schema.add_field("dense", DataType.FLOAT_VECTOR, dim=dim)
    schema.add_function(
        Function(
            name="text_bm25",
            function_type=FunctionType.BM25,
            input_field_names=["text"],
            output_field_names=["sparse"],
        )
    )
    index = client.prepare_index_params()
    if config.index_type == "HNSW":
        index.add_index(
            "dense",
            index_type="HNSW",
            metric_type="IP",
            params={"M": HNSW_M, "efConstruction": HNSW_EF_CONSTRUCTION},
        )
    else:
        index.add_index("dense", index_type="FLAT", metric_type="IP")
    index.add_index("sparse", index_type="SPARSE_INVERTED_INDEX", metric_type="BM25")
    index.add_index("doc_key", index_type="INVERTED")
    # Strong: a question right after a write sees the rows the write inserted.
    client.create_collection(
        name,
        schema=schema,
        index_params=index,
        consistency_level="Strong",
        properties=props,
        timeout=TIMEOUT,
    )


def collection_name(config: MilvusConfig, weights_sha256: str) -> str:
    """`QA_MILVUS_COLLECTION` plus the model's hash: two models' vectors never share one."""
    return f"{config.collection}_{weights_sha256[:12]}"


@dataclass(frozen=True, slots=True)
class Article:
    """One article version to hold in the collection: its rows and where its vectors are."""

    key: str
    doc_id: str
    text: str
    sentences: Sequence[tuple[int, int]]  # (start, end) of each sentence
    chunks: Sequence[tuple[int, int]]  # (start, end) of each chunk
    first_sentence: int  # row of its first sentence vector in the index
    first_chunk: int


def sync_collection(
    config: MilvusConfig,
    articles: Sequence[Article],
    sentence_vectors: NDArray[np.float32],
    chunk_vectors: NDArray[np.float32],
    properties: dict[str, str],
    present: set[str],
) -> tuple[str, MilvusStore, MilvusStore, int]:
    """Make the collection hold every article of `articles`, writing only the missing ones.

    `present` are the keys a published index already holds in this collection (complete, so
    they are skipped). Any other key is first deleted (rows left by an interrupted write) and
    then inserted. Rows of articles no longer wanted stay until pruning removes them after
    publishing, so servers still on the previous version keep finding theirs. Returns the
    collection name, the two stores and the number of rows inserted.
    """
    client = connect(config)
    name = collection_name(config, properties["qa.weights_sha256"])
    dimension = int(sentence_vectors.shape[1]) if sentence_vectors.ndim == 2 else 0
    inserted = 0
    try:
        if client.has_collection(name, timeout=TIMEOUT):
            _check_model(client, name, properties["qa.weights_sha256"])
            missing = [a for a in articles if a.key not in present]
            delete_articles(client, name, [a.key for a in missing])
        else:
            _create(client, config, name, dimension, properties)
            missing = list(articles)
        batch: list[dict[str, Any]] = []
        for article in missing:
            for kind, spans, first, vectors in (
                (SENTENCE, article.sentences, article.first_sentence, sentence_vectors),
                (CHUNK, article.chunks, article.first_chunk, chunk_vectors),
            ):
                for n, (start, end) in enumerate(spans):
                    text = article.text[start:end]
                    batch.append(
                        _row(
                            article.key,
                            kind,
                            n,
                            vectors[first + n],
                            article.doc_id,
                            start,
                            end,
                            text,
                        )
                    )
                    if len(batch) >= INSERT_ROWS:
                        client.insert(name, batch, timeout=TIMEOUT)
                        inserted += len(batch)
                        batch = []
        if batch:
            client.insert(name, batch, timeout=TIMEOUT)
            inserted += len(batch)
        if inserted:
            client.flush(name, timeout=TIMEOUT * 30)
        client.load_collection(name, timeout=TIMEOUT * 30)
    except IndexUnavailable:
        raise
    except Exception as err:
        raise StoreUnavailable(
            f"could not write Milvus collection {name} at {config.uri} ({_short(err)})"
        ) from err
    rows = RowMap(articles)
    return name, *stores(client, config, name, rows), inserted


def _check_model(client: Any, name: str, weights_sha256: str) -> None:
    props = client.describe_collection(name, timeout=TIMEOUT).get("properties", {})
    if props.get("qa.weights_sha256") != weights_sha256:
        raise IndexUnavailable(
            f"Milvus collection {name} holds vectors of another model "
            f"({props.get('qa.model', 'unknown')}); drop it or set QA_MILVUS_COLLECTION"
        )


def delete_articles(client: Any, name: str, keys: Sequence[str]) -> int:
    """Delete every row of the article versions `keys`; the number of rows deleted."""
    deleted = 0
    for lo in range(0, len(keys), FILTER_KEYS):
        part = keys[lo : lo + FILTER_KEYS]
        result = client.delete(name, filter=f"doc_key in {json.dumps(part)}", timeout=TIMEOUT)
        deleted += int(result.get("delete_count", 0)) if isinstance(result, dict) else 0
    return deleted


def release(client: Any, name: str, dead: Sequence[str] | None) -> None:
    """Delete the rows of the article versions `dead` from collection `name`, or the whole
    collection when `dead` is None (best effort: leftover rows are skipped by searches, and the
    next prune retries)."""
    try:
        if not client.has_collection(name, timeout=TIMEOUT):
            return
        if dead is None:
            client.drop_collection(name, timeout=TIMEOUT)
        elif dead:
            delete_articles(client, name, dead)
    except Exception:  # see docstring
        pass


def stores(
    client: Any, config: MilvusConfig, name: str, rows: RowMap
) -> tuple[MilvusStore, MilvusStore]:
    ef = HNSW_EF_SEARCH if config.index_type == "HNSW" else 0
    return (
        MilvusStore(client, name, SENTENCE, rows, config.uri, ef, config.search),
        MilvusStore(client, name, CHUNK, rows, config.uri, ef, config.search),
    )


def open_collection(
    config: MilvusConfig, name: str, weights_sha256: str, articles: Sequence[Article]
) -> tuple[MilvusStore, MilvusStore]:
    """Reconnect to the collection of a published index and check it holds every row of it."""
    client = connect(config)
    rows = RowMap(articles)
    keys = list(rows.first)
    try:
        if not client.has_collection(name, timeout=TIMEOUT):
            raise IndexUnavailable(
                f"Milvus collection {name} at {config.uri} is missing; rebuild the index"
            )
        _check_model(client, name, weights_sha256)
        client.load_collection(name, timeout=TIMEOUT * 30)
        found = [_count(client, name, kind, keys) for kind in (SENTENCE, CHUNK)]
    except IndexUnavailable:
        raise
    except Exception as err:
        raise StoreUnavailable(
            f"Milvus at {config.uri} failed while opening {name} ({_short(err)})"
        ) from err
    if found != list(rows.counts):
        raise IndexUnavailable(
            f"Milvus collection {name} holds {found[0]} sentences and {found[1]} chunks of this "
            f"index's articles, the manifest {rows.counts[0]} and {rows.counts[1]}; rebuild the "
            "index"
        )
    return stores(client, config, name, rows)


def _count(client: Any, name: str, kind: int, keys: Sequence[str]) -> int:
    total = 0
    for lo in range(0, len(keys), FILTER_KEYS):
        part = json.dumps(list(keys[lo : lo + FILTER_KEYS]))
        result = client.query(
            name,
            filter=f"kind == {kind} and doc_key in {part}",
            output_fields=["count(*)"],
            timeout=TIMEOUT,
        )
        total += int(result[0]["count(*)"])
    return total
