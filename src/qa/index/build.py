"""Build an Index from articles: embed what changed, hand the vectors to the store backend,
build the BM25 tables and write down in the manifest how it was all made."""

from __future__ import annotations

import time
from collections.abc import Callable, Collection, Sequence
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np

from qa.core.versions import library_versions
from qa.index.embed_corpus import (
    GROUP_TEXTS,
    Reusable,
    article_texts,
    embed_corpus,
    texts_key,
)
from qa.index.lexical import Lexical
from qa.index.manifest import FORMAT_VERSION, Counts, Manifest, ModelRecord
from qa.index.model import Index
from qa.index.stores import registry
from qa.index.stores.base import Contents

if TYPE_CHECKING:
    from numpy.typing import NDArray

    from qa.corpus.documents import Document
    from qa.embed.model import Embedder, ModelInfo
    from qa.index.chunking import Chunking
    from qa.index.stores.base import StoreBackend

_LIBRARIES = (
    "qa",
    "faiss-cpu",
    "sentence-transformers",
    "torch",
    "onnxruntime",
    "tokenizers",
    "numpy",
    "pysbd",
)


def reusable(
    previous: Index | None,
    model: ModelInfo,
    chunking: Chunking,
    only: Collection[str] | None = None,
) -> Reusable:
    """Vectors of `previous` (of the articles in `only`, default all) by doc_id with the
    `texts_key` they embed, when it was built the same way."""
    if previous is None:
        return {}
    m = previous.manifest
    if (
        m.format_version != FORMAT_VERSION
        or m.model.weights_sha256 != model.weights_sha256
        or m.chunking != chunking
    ):
        return {}
    out: dict[str, tuple[str, NDArray[np.float32], NDArray[np.float32]]] = {}
    for pos, doc in enumerate(previous.documents):
        if only is not None and doc.doc_id not in only:
            continue
        rows = slice(int(previous.doc_first_row[pos]), int(previous.doc_first_row[pos + 1]))
        chunks = np.flatnonzero(previous.chunk_doc == pos)
        out[doc.doc_id] = (
            texts_key(doc, chunking),
            previous.sentence_vectors[rows],
            previous.chunk_vectors[chunks] if len(chunks) else previous.chunk_vectors[:0],
        )
    return out


def build(
    documents: Sequence[Document],
    embedder: Embedder,
    chunking: Chunking,
    *,
    previous: Index | None = None,
    sources: dict[str, str] | None = None,
    skipped: Sequence[str] = (),
    batch_size: int = 64,
    progress: bool = False,
    store: StoreBackend | None = None,
    resume_dir: Path | None = None,
    group_texts: int = GROUP_TEXTS,
    log: Callable[[str], None] = lambda _msg: None,
    fresh: Reusable | None = None,
) -> Index:
    """Embed `documents` (reusing `previous` vectors of unchanged articles) into a new Index.

    Articles are embedded `group_texts` texts at a time; with `resume_dir`, each group is
    checkpointed there and checkpoints of an interrupted build are reused (see embed_corpus).
    The vectors go to `store` (default: `registry.default()`).
    `fresh` holds vectors embedded beforehand (`embed_articles`), used like reusable ones.
    """
    started = time.perf_counter()
    model = embedder.fingerprint
    reuse = dict(reusable(previous, model, chunking)) | dict(fresh or {})
    sentence_vectors, chunk_vectors, embedded = embed_corpus(
        documents,
        embedder,
        chunking,
        reuse,
        resume_dir=resume_dir,
        group_texts=group_texts,
        batch_size=batch_size,
        progress=progress,
        log=log,
    )
    backend = store if store is not None else registry.default()
    contents = Contents(documents, chunking, sentence_vectors, chunk_vectors)
    stores, record = backend.build(
        contents, model, previous.manifest if previous is not None else None
    )
    lexical = Lexical.build([d.text[s.start : s.end] for d in documents for s in d.sentences])
    chunk_lexical = Lexical.build([t for d in documents for t in article_texts(d, chunking)[1]])
    manifest = Manifest(
        model=_model_record(model),
        chunking=chunking,
        store=record,
        articles={d.doc_id: d.sha256 for d in documents},
        sources=dict(sources) if sources is not None else {},
        skipped=tuple(skipped),
        counts=Counts(len(documents), len(sentence_vectors), len(chunk_vectors), embedded.texts),
        embedding=embedded,
        libraries=library_versions(_LIBRARIES),
        built_at=datetime.now(UTC).isoformat(timespec="seconds"),
        build_seconds=round(time.perf_counter() - started, 3),
    )
    return Index(
        manifest,
        list(documents),
        sentence_vectors,
        chunk_vectors,
        stores,
        backend,
        lexical,
        chunk_lexical,
    )


def _model_record(model: ModelInfo) -> ModelRecord:
    return ModelRecord(
        name=model.name,
        weights_sha256=model.weights_sha256,
        encoder=model.encoder,
        source_weights_sha256=model.source_sha256 or model.weights_sha256,
        dimension=model.dimension,
    )


def embed_articles(
    documents: Sequence[Document],
    embedder: Embedder,
    chunking: Chunking,
    previous: Index | None,
    batch_size: int = 64,
) -> Reusable:
    """Vectors of `documents` for a later `build(fresh=...)`, embedded now (those `previous`
    holds for the same texts are taken from it): a write embeds its articles before it takes
    the writer lock, and can be abandoned meanwhile (`qa.core.cancel`)."""
    reuse = reusable(previous, embedder.fingerprint, chunking, {d.doc_id for d in documents})
    sentences, chunks, _ = embed_corpus(documents, embedder, chunking, reuse, batch_size=batch_size)
    out = {}
    s_at = c_at = 0
    for doc in documents:
        s_count = len(doc.sentences)
        c_count = len(chunking.bounds(s_count))
        out[doc.doc_id] = (
            texts_key(doc, chunking),
            sentences[s_at : s_at + s_count],
            chunks[c_at : c_at + c_count],
        )
        s_at += s_count
        c_at += c_count
    return out
