"""The Milvus backend: the index's vectors and texts in a Milvus collection.

One collection per published index version holds both the sentences and the chunks (field
`kind`), each row with its dense vector, text, doc_id and character offsets, plus a sparse
BM25 vector that Milvus derives from the text (full-text search). A build writes a new
collection and the manifest in index/ points at it, so publishing stays the atomic swap of the
FAISS backend; pruning an old version drops its collection.

The same client talks to Milvus Lite (a local file URI, embedded, one process) and to a Milvus
standalone server or cluster (`http://host:19530`). Vectors are L2-normalised, so the inner
product (metric IP) is the cosine, as with FAISS.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal

import numpy as np

from qa.index import IndexUnavailable

if TYPE_CHECKING:
    from numpy.typing import NDArray

    from qa.config import Settings

SENTENCE, CHUNK = 0, 1
KIND_STRIDE = 1 << 40  # primary key = kind * KIND_STRIDE + row number within the kind
MAX_TEXT_BYTES = 65_535  # VARCHAR limit; longer chunk texts are cut for BM25 only
INSERT_ROWS = 1_000
TIMEOUT = 10.0  # seconds for any one call: a dead server fails a question, it does not hang it
HNSW_M = 32  # the FAISS backend's graph parameters, so the two backends search alike
HNSW_EF_CONSTRUCTION = 80
HNSW_EF_SEARCH = 128
IndexType = Literal["FLAT", "HNSW"]


class StoreUnavailable(IndexUnavailable):
    """The Milvus server cannot be reached or answered with an error."""


@dataclass(frozen=True, slots=True)
class MilvusConfig:
    """Where the collection lives: a local file (Milvus Lite) or a server URI."""

    uri: str
    token: str | None = None
    collection: str = "qa"
    index_type: IndexType = "FLAT"

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
        uri, settings.milvus_token, settings.milvus_collection, settings.milvus_index
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


class MilvusStore:
    """Dense search over one kind (sentences or chunks) of a collection; rows as in FAISS."""

    def __init__(
        self, client: Any, collection: str, kind: int, count: int, uri: str = "", ef: int = 0
    ) -> None:
        self._client = client
        self.collection = collection
        self.kind = kind
        self._count = count
        self._uri = uri
        self._ef = ef  # HNSW beam width at search time; 0 for FLAT

    def __len__(self) -> int:
        return self._count

    def add(self, vectors: NDArray[np.float32]) -> None:
        """Append rows with vectors only (no text); builds use `write_collection`."""
        rows = [
            _row(self.kind, self._count + i, vec, "", 0, 0, "") for i, vec in enumerate(vectors)
        ]
        self._call("insert", self._client.insert, self.collection, rows)
        self._count += len(rows)

    def search(
        self, queries: NDArray[np.float32], k: int
    ) -> tuple[NDArray[np.float32], NDArray[np.int64]]:
        k = max(1, min(k, self._count or 1))
        params: dict[str, Any] = {"metric_type": "IP"}
        if self._ef:
            params["params"] = {"ef": max(self._ef, k)}
        hits = self._call(
            "search",
            self._client.search,
            self.collection,
            data=np.asarray(queries, dtype=np.float32).tolist(),
            anns_field="dense",
            limit=k,
            filter=f"kind == {self.kind}",
            output_fields=[],
            search_params=params,
        )
        scores = np.full((len(queries), k), -np.inf, dtype=np.float32)
        rows = np.full((len(queries), k), -1, dtype=np.int64)
        base = self.kind * KIND_STRIDE
        for q, found in enumerate(hits):
            for j, hit in enumerate(found[:k]):
                rows[q, j] = int(hit["id"]) - base
                scores[q, j] = float(hit["distance"])
        return scores, rows

    def text_search(self, text: str, k: int) -> list[tuple[int, float]]:
        """Milvus BM25 full-text search: (row, score) best first."""
        hits = self._call(
            "full-text search",
            self._client.search,
            self.collection,
            data=[text],
            anns_field="sparse",
            limit=max(1, k),
            filter=f"kind == {self.kind}",
            output_fields=[],
            search_params={"metric_type": "BM25"},
        )
        base = self.kind * KIND_STRIDE
        # Milvus Lite reports BM25 as a negative distance (order is right); servers positive.
        return [(int(h["id"]) - base, abs(float(h["distance"]))) for h in hits[0]]

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
    kind: int, row: int, vec: Any, doc_id: str, start: int, end: int, text: str
) -> dict[str, Any]:
    data = text.encode("utf-8")
    if len(data) > MAX_TEXT_BYTES:
        text = data[:MAX_TEXT_BYTES].decode("utf-8", errors="ignore")
    return {
        "id": kind * KIND_STRIDE + row,
        "kind": kind,
        "doc_id": doc_id,
        "start": start,
        "end": end,
        "text": text,
        "dense": vec.tolist() if hasattr(vec, "tolist") else list(vec),
    }


def _create(client: Any, config: MilvusConfig, name: str, dim: int, props: dict[str, str]) -> None:
    from pymilvus import DataType, Function, FunctionType

    schema = client.create_schema(auto_id=False, enable_dynamic_field=False)
    schema.add_field("id", DataType.INT64, is_primary=True)
    schema.add_field("kind", DataType.INT8)
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
    # Strong: a question right after a publish sees every row (the collection never changes
    # after it is published, so this costs nothing once the build has flushed).
    client.create_collection(
        name,
        schema=schema,
        index_params=index,
        consistency_level="Strong",
        properties=props,
        timeout=TIMEOUT,
    )


def write_collection(
    config: MilvusConfig,
    rows: Iterator[tuple[int, int, Any, str, int, int, str]],
    dimension: int,
    properties: dict[str, str],
) -> tuple[str, MilvusStore, MilvusStore]:
    """Create a new versioned collection holding `rows` (kind, row, vector, doc_id, start, end,
    text); the sentence and chunk stores over it."""
    client = connect(config)
    name = f"{config.collection}_v{time.time_ns()}"
    counts = [0, 0]
    try:
        _create(client, config, name, dimension, properties)
        batch: list[dict[str, Any]] = []
        for kind, row, vec, doc_id, start, end, text in rows:
            batch.append(_row(kind, row, vec, doc_id, start, end, text))
            counts[kind] += 1
            if len(batch) >= INSERT_ROWS:
                client.insert(name, batch, timeout=TIMEOUT)
                batch = []
        if batch:
            client.insert(name, batch, timeout=TIMEOUT)
        client.flush(name, timeout=TIMEOUT * 30)
        client.load_collection(name, timeout=TIMEOUT * 30)
    except Exception as err:
        drop(config, name)
        if isinstance(err, StoreUnavailable):
            raise
        raise StoreUnavailable(
            f"could not write Milvus collection {name} at {config.uri} ({_short(err)})"
        ) from err
    return name, *stores(client, config, name, counts[SENTENCE], counts[CHUNK])


def stores(
    client: Any, config: MilvusConfig, name: str, sentences: int, chunks: int
) -> tuple[MilvusStore, MilvusStore]:
    ef = HNSW_EF_SEARCH if config.index_type == "HNSW" else 0
    return (
        MilvusStore(client, name, SENTENCE, sentences, config.uri, ef),
        MilvusStore(client, name, CHUNK, chunks, config.uri, ef),
    )


def open_collection(
    config: MilvusConfig, name: str, weights_sha256: str, sentences: int, chunks: int
) -> tuple[MilvusStore, MilvusStore]:
    """Reconnect to a published collection and check it is the one the manifest describes."""
    client = connect(config)
    try:
        if not client.has_collection(name, timeout=TIMEOUT):
            raise IndexUnavailable(
                f"Milvus collection {name} at {config.uri} is missing; rebuild the index"
            )
        props = client.describe_collection(name, timeout=TIMEOUT).get("properties", {})
        if props.get("qa.weights_sha256") != weights_sha256:
            raise IndexUnavailable(
                f"Milvus collection {name} was built with another model "
                f"({props.get('qa.model', 'unknown')}); rebuild the index"
            )
        client.load_collection(name, timeout=TIMEOUT * 30)
        found = [_count(client, name, kind) for kind in (SENTENCE, CHUNK)]
    except IndexUnavailable:
        raise
    except Exception as err:
        raise StoreUnavailable(
            f"Milvus at {config.uri} failed while opening {name} ({_short(err)})"
        ) from err
    if found != [sentences, chunks]:
        raise IndexUnavailable(
            f"Milvus collection {name} holds {found[0]} sentences and {found[1]} chunks, the "
            f"manifest {sentences} and {chunks}; rebuild the index"
        )
    return stores(client, config, name, sentences, chunks)


def _count(client: Any, name: str, kind: int) -> int:
    result = client.query(
        name, filter=f"kind == {kind}", output_fields=["count(*)"], timeout=TIMEOUT
    )
    return int(result[0]["count(*)"])


def drop(config: MilvusConfig, name: str) -> None:
    """Drop collection `name` if it exists (best effort: a dead server is not an error here)."""
    try:
        client = connect(config)
        if client.has_collection(name, timeout=TIMEOUT):
            client.drop_collection(name, timeout=TIMEOUT)
    except Exception:  # best effort: pruning retries on the next publish
        pass


def rows_of(
    documents: Sequence[Any],
    chunk_bounds: Sequence[Sequence[tuple[int, int]]],
    sentence_vectors: NDArray[np.float32],
    chunk_vectors: NDArray[np.float32],
) -> Iterator[tuple[int, int, Any, str, int, int, str]]:
    """Rows for `write_collection`, in index row order: sentences, then chunks."""
    row = 0
    for doc in documents:
        for span in doc.sentences:
            text = doc.text[span.start : span.end]
            yield SENTENCE, row, sentence_vectors[row], doc.doc_id, span.start, span.end, text
            row += 1
    row = 0
    for doc, bounds in zip(documents, chunk_bounds, strict=True):
        for first, last in bounds:
            start, end = doc.sentences[first].start, doc.sentences[last - 1].end
            yield CHUNK, row, chunk_vectors[row], doc.doc_id, start, end, doc.text[start:end]
            row += 1
