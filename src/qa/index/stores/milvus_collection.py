"""The Milvus collection: connection, schema, and writing, deleting and counting its rows.

One collection per model (`collection_name`) holds a row per sentence and per chunk of every
article version (`doc_key`), with its dense vector, text, doc_id and character offsets, plus a
sparse BM25 vector Milvus derives from the text. Rows of one article version are written once
and never changed; see `qa.index.stores.milvus` for how an index searches them.
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

from qa.index.errors import IndexUnavailable
from qa.index.stores.base import StoreUnavailable

if TYPE_CHECKING:
    from numpy.typing import NDArray

SENTENCE, CHUNK = 0, 1
KEY_CHARS = 32  # hex digits of an article version's key (sha256 of doc_id and text hash)
FILTER_KEYS = 500  # keys per `doc_key in [...]` filter
MAX_TEXT_BYTES = 65_535  # VARCHAR limit; longer chunk texts are cut for BM25 only
INSERT_ROWS = 1_000
TIMEOUT = 10.0  # seconds for any one call: a dead server fails a question, it does not hang it
HNSW_M = 32  # the FAISS backend's graph parameters, so the two backends search alike
HNSW_EF_CONSTRUCTION = 80
HNSW_EF_SEARCH = 128
IndexType = Literal["FLAT", "HNSW"]
SearchMode = Literal["separate", "hybrid"]


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
                    f"Milvus at {config.uri} is unreachable ({short(err)}); check QA_MILVUS_URI"
                    " and QA_MILVUS_TOKEN, and that the server is running"
                ) from err
            _clients[key] = client
        return client


def short(err: BaseException) -> str:
    text = str(err).strip().splitlines()[0] if str(err).strip() else type(err).__name__
    return text[:300]


def doc_key(doc_id: str, sha256: str) -> str:
    """The key of one version of one article: its rows are written once and never changed."""
    return hashlib.sha256(f"{doc_id}\0{sha256}".encode()).hexdigest()[:KEY_CHARS]


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
) -> tuple[str, int]:
    """Make the collection hold every article of `articles`, writing only the missing ones.

    `present` are the keys a published index already holds in this collection (complete, so
    they are skipped). Any other key is first deleted (rows left by an interrupted write) and
    then inserted. Rows of articles no longer wanted stay until pruning removes them after
    publishing, so servers still on the previous version keep finding theirs. Returns the
    collection name and the number of rows inserted.
    """
    client = connect(config)
    name = collection_name(config, properties["qa.weights_sha256"])
    dimension = int(sentence_vectors.shape[1]) if sentence_vectors.ndim == 2 else 0
    try:
        if client.has_collection(name, timeout=TIMEOUT):
            _check_model(client, name, properties["qa.weights_sha256"])
            missing = [a for a in articles if a.key not in present]
            delete_articles(client, name, [a.key for a in missing])
        else:
            _create(client, config, name, dimension, properties)
            missing = list(articles)
        inserted = _insert(client, name, missing, sentence_vectors, chunk_vectors)
        if inserted:
            client.flush(name, timeout=TIMEOUT * 30)
        client.load_collection(name, timeout=TIMEOUT * 30)
    except IndexUnavailable:
        raise
    except Exception as err:
        raise StoreUnavailable(
            f"could not write Milvus collection {name} at {config.uri} ({short(err)})"
        ) from err
    return name, inserted


def _insert(
    client: Any,
    name: str,
    articles: Sequence[Article],
    sentence_vectors: NDArray[np.float32],
    chunk_vectors: NDArray[np.float32],
) -> int:
    """Insert every row of `articles`, `INSERT_ROWS` at a time; the number inserted."""
    inserted = 0
    batch: list[dict[str, Any]] = []
    for article in articles:
        for kind, spans, first, vectors in (
            (SENTENCE, article.sentences, article.first_sentence, sentence_vectors),
            (CHUNK, article.chunks, article.first_chunk, chunk_vectors),
        ):
            for n, (start, end) in enumerate(spans):
                text = article.text[start:end]
                batch.append(
                    _row(article.key, kind, n, vectors[first + n], article.doc_id, start, end, text)
                )
                if len(batch) >= INSERT_ROWS:
                    client.insert(name, batch, timeout=TIMEOUT)
                    inserted += len(batch)
                    batch = []
    if batch:
        client.insert(name, batch, timeout=TIMEOUT)
        inserted += len(batch)
    return inserted


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


def verify_collection(
    config: MilvusConfig, name: str, weights_sha256: str, articles: Sequence[Article]
) -> None:
    """Check that the collection of a published index exists, holds this model's vectors and
    every row of `articles` (IndexUnavailable if not), and load it for searching."""
    client = connect(config)
    keys = [a.key for a in articles]
    want = [sum(len(a.sentences) for a in articles), sum(len(a.chunks) for a in articles)]
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
            f"Milvus at {config.uri} failed while opening {name} ({short(err)})"
        ) from err
    if found != want:
        raise IndexUnavailable(
            f"Milvus collection {name} holds {found[0]} sentences and {found[1]} chunks of this "
            f"index's articles, the manifest {want[0]} and {want[1]}; rebuild the index"
        )


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
