"""Build, save, publish and load the index: vectors, the sentence store and the manifest.

Layout of the index folder::

    index/
      current -> v-1732712345123456789   symlink, swapped atomically on publish
      v-1732712345123456789/
        manifest.json            what was built from what, and a sha256 of every file below
        documents.json           articles: doc_id, metadata, text, sha256, sentence offsets
        sentence_vectors.npy     one normalised vector per sentence
        chunk_vectors.npy        one per chunk of consecutive sentences
        sentences.faiss          FAISS index over sentence_vectors
        chunks.faiss             FAISS index over chunk_vectors
        bm25/                    BM25 (bm25s) over the sentences, and term document frequencies
        bm25_chunks/             the same over the chunks

A build writes a new `v-*` folder under a temporary name, renames it into place and only then
repoints `current`, so a reader sees the old index or the new one, never half of either.
"""

from __future__ import annotations

import fcntl
import json
import os
import shutil
import tempfile
import time
from collections.abc import Callable, Collection, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime
from importlib import metadata
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from qa.corpus.documents import Document, Span, fingerprint_files, read_corpus
from qa.corpus.seeds import fsync_dir
from qa.embed.model import Embedder, ModelInfo, sha256_file
from qa.index.embed_corpus import (
    GROUP_TEXTS,
    RESUME_DIR,
    Reusable,
    article_texts,
    discard_checkpoints,
    embed_corpus,
    texts_key,
)
from qa.index.lexical import BM25_DIR, Lexical
from qa.index.stores.faiss import EXACT_MAX, FaissStore, VectorStore, make_store

if TYPE_CHECKING:
    from numpy.typing import NDArray

    from qa.index.stores.milvus import MilvusConfig

FORMAT_VERSION = 3  # 3: articles carry metadata (url, published, source, author)
MILVUS_LAYOUT = "article-versions"  # rows keyed by (doc_id, sha256), updated in place
CURRENT = "current"
MANIFEST = "manifest.json"
DOCUMENTS = "documents.json"
SENTENCE_VECTORS = "sentence_vectors.npy"
CHUNK_VECTORS = "chunk_vectors.npy"
SENTENCE_INDEX = "sentences.faiss"
CHUNK_INDEX = "chunks.faiss"
CHUNK_BM25_DIR = "bm25_chunks"
DOCUMENT_META = ("url", "published", "source", "author")
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


class IndexUnavailable(RuntimeError):
    """An index that cannot be served: missing, corrupt, or built for something else."""


@dataclass(frozen=True, slots=True)
class Chunking:
    """Chunks are `size` consecutive sentences of one article; neighbours share `overlap`."""

    size: int = 3
    overlap: int = 1

    def bounds(self, n: int) -> list[tuple[int, int]]:
        """[first, last) sentence numbers of each chunk of an article with `n` sentences."""
        stride = self.size - self.overlap
        out: list[tuple[int, int]] = []
        start = 0
        while start < n:
            end = min(start + self.size, n)
            out.append((start, end))
            if end == n:
                break
            start += stride
        return out


@dataclass
class Index:
    """A loaded index: articles, sentence and chunk tables, vectors and their stores."""

    manifest: dict[str, Any]
    documents: list[Document]
    sentence_vectors: NDArray[np.float32]
    chunk_vectors: NDArray[np.float32]
    sentence_store: VectorStore
    chunk_store: VectorStore
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
        chunking = Chunking(**self.manifest["chunking"])
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
        if len(self.sentence_vectors) != len(self.sentence_doc) or len(self.chunk_vectors) != len(
            self.chunk_first
        ):
            raise IndexUnavailable("index tables and vectors disagree in length; rebuild the index")

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

    def chunk_text(self, chunk: int) -> str:
        doc = self.documents[int(self.chunk_doc[chunk])]
        first = self.span(int(self.chunk_first[chunk]))[1]
        last = self.span(int(self.chunk_last[chunk]) - 1)[1]
        return doc.text[first.start : last.end]


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


# ---------------------------------------------------------------------------------- building


def _library_versions() -> dict[str, str]:
    versions = {}
    for name in _LIBRARIES:
        try:
            versions[name] = metadata.version(name)
        except metadata.PackageNotFoundError:
            versions[name] = "absent"
    return versions


def reusable(
    previous: Index | None,
    model: ModelInfo,
    chunking: Chunking,
    only: Collection[str] | None = None,
) -> dict[str, Any]:
    """Vectors of `previous` (of the articles in `only`, default all) by doc_id with the
    `texts_key` they embed, when it was built the same way."""
    if previous is None:
        return {}
    m = previous.manifest
    if (
        m.get("format_version") != FORMAT_VERSION
        or m["model"]["weights_sha256"] != model.weights_sha256
        or m["chunking"] != {"size": chunking.size, "overlap": chunking.overlap}
    ):
        return {}
    out: dict[str, Any] = {}
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
    milvus: MilvusConfig | None = None,
    resume_dir: Path | None = None,
    group_texts: int = GROUP_TEXTS,
    log: Callable[[str], None] = lambda _msg: None,
    fresh: Reusable | None = None,
) -> Index:
    """Embed `documents` (reusing `previous` vectors of unchanged articles) into a new Index.

    Articles are embedded `group_texts` texts at a time; with `resume_dir`, each group is
    checkpointed there and checkpoints of an interrupted build are reused (see embed_corpus).
    With `milvus`, the vectors and texts go to a new Milvus collection instead of FAISS.
    `fresh` holds vectors embedded beforehand (`embed_articles`), used like reusable ones.
    """
    started = time.perf_counter()
    model = embedder.fingerprint
    reuse = reusable(previous, model, chunking) | dict(fresh or {})
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
    dim = model.dimension
    sentence_store: VectorStore
    chunk_store: VectorStore
    if milvus is None:
        sentence_faiss = make_store(dim, len(sentence_vectors))
        sentence_faiss.add(sentence_vectors)
        chunk_faiss = make_store(dim, len(chunk_vectors))
        chunk_faiss.add(chunk_vectors)
        sentence_store, chunk_store = sentence_faiss, chunk_faiss
        store_info: dict[str, Any] = {
            "backend": "faiss",
            "type": sentence_faiss.kind,
            "exact_max": EXACT_MAX,
            "sentences": sentence_faiss.describe(),
            "chunks": chunk_faiss.describe(),
        }
    else:
        sentence_store, chunk_store, store_info = _milvus_stores(
            milvus, documents, chunking, sentence_vectors, chunk_vectors, model, previous
        )
    lexical = Lexical.build([d.text[s.start : s.end] for d in documents for s in d.sentences])
    chunk_lexical = Lexical.build([t for d in documents for t in article_texts(d, chunking)[1]])
    manifest = {
        "format_version": FORMAT_VERSION,
        "model": {
            "name": model.name,
            "weights_sha256": model.weights_sha256,
            "encoder": model.encoder,
            "source_weights_sha256": model.source_sha256 or model.weights_sha256,
            "dimension": dim,
            "normalized": True,
            "similarity": "cosine (inner product of normalised vectors)",
        },
        "chunking": {"size": chunking.size, "overlap": chunking.overlap},
        "store": store_info,
        "articles": {d.doc_id: d.sha256 for d in documents},
        "sources": dict(sources) if sources is not None else {},
        "skipped": list(skipped),
        "counts": {
            "articles": len(documents),
            "sentences": len(sentence_vectors),
            "chunks": len(chunk_vectors),
            "embedded": embedded.texts,
        },
        "embedding": embedded.as_dict(),
        "libraries": _library_versions(),
        "built_at": datetime.now(UTC).isoformat(timespec="seconds"),
        "build_seconds": round(time.perf_counter() - started, 3),
    }
    return Index(
        manifest,
        list(documents),
        sentence_vectors,
        chunk_vectors,
        sentence_store,
        chunk_store,
        lexical,
        chunk_lexical,
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


def _milvus_stores(
    config: MilvusConfig,
    documents: Sequence[Document],
    chunking: Chunking,
    sentence_vectors: NDArray[np.float32],
    chunk_vectors: NDArray[np.float32],
    model: ModelInfo,
    previous: Index | None,
) -> tuple[VectorStore, VectorStore, dict[str, Any]]:
    from qa.index.stores.milvus import collection_name, doc_key, sync_collection

    props = {"qa.model": model.name, "qa.weights_sha256": model.weights_sha256}
    name = collection_name(config, model.weights_sha256)
    present: set[str] = set()
    if previous is not None:
        info = previous.manifest.get("store", {})
        if info.get("layout") == MILVUS_LAYOUT and info.get("collection") == name:
            present = {doc_key(d.doc_id, d.sha256) for d in previous.documents}
    name, sentences, chunks, inserted = sync_collection(
        config,
        _milvus_articles(documents, chunking),
        sentence_vectors,
        chunk_vectors,
        props,
        present,
    )
    info = {
        "backend": "milvus",
        "layout": MILVUS_LAYOUT,
        "uri": config.uri,
        "collection": name,
        "prefix": config.collection,
        "type": config.index_type,
        "metric": "IP",
        "sentences": len(sentences),
        "chunks": len(chunks),
        "rows_inserted": inserted,
    }
    return sentences, chunks, info


def _milvus_articles(documents: Sequence[Document], chunking: Chunking) -> list[Any]:
    """Each article's rows for the Milvus collection, with where its vectors are."""
    from qa.index.stores.milvus import Article, doc_key

    out = []
    first_sentence = first_chunk = 0
    for doc in documents:
        spans = [(s.start, s.end) for s in doc.sentences]
        chunks = [
            (doc.sentences[a].start, doc.sentences[b - 1].end)
            for a, b in chunking.bounds(len(doc.sentences))
        ]
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


# ----------------------------------------------------------------------------- saving/loading


def _write(path: Path, writer: Callable[[Path], object]) -> None:
    writer(path)
    with path.open("rb+") as handle:
        os.fsync(handle.fileno())


def save(index: Index, folder: Path) -> None:
    """Write every index file into `folder`, the manifest (with file hashes) last."""
    folder.mkdir(parents=True, exist_ok=True)
    docs = [
        {
            "doc_id": d.doc_id,
            "title": d.title,
            **{key: getattr(d, key) for key in DOCUMENT_META},
            "sha256": d.sha256,
            "text": d.text,
            "sentences": [[s.start, s.end, s.paragraph] for s in d.sentences],
        }
        for d in index.documents
    ]
    _write(
        folder / DOCUMENTS,
        lambda p: p.write_text(json.dumps(docs, ensure_ascii=False), encoding="utf-8"),
    )
    _write(folder / SENTENCE_VECTORS, lambda p: np.save(p, index.sentence_vectors))
    _write(folder / CHUNK_VECTORS, lambda p: np.save(p, index.chunk_vectors))
    if index.manifest["store"]["backend"] == "faiss":  # Milvus: the manifest names the collection
        _write(folder / SENTENCE_INDEX, index.sentence_store.save)
        _write(folder / CHUNK_INDEX, index.chunk_store.save)
    index.lexical.save(folder / BM25_DIR)
    index.chunk_lexical.save(folder / CHUNK_BM25_DIR)
    files = sorted(
        str(p.relative_to(folder)) for p in folder.rglob("*") if p.is_file() and p.name != MANIFEST
    )
    for name in files:
        if name.startswith((BM25_DIR, CHUNK_BM25_DIR)):
            with (folder / name).open("rb+") as handle:
                os.fsync(handle.fileno())
    index.manifest["files"] = {name: sha256_file(folder / name) for name in files}
    _write(
        folder / MANIFEST,
        lambda p: p.write_text(json.dumps(index.manifest, indent=2, ensure_ascii=False) + "\n"),
    )
    fsync_dir(folder)


def publish(index: Index, index_dir: Path, keep: int = 2) -> Path:
    """Save `index` as a new version under `index_dir` and point `current` at it atomically."""
    index_dir.mkdir(parents=True, exist_ok=True)
    staging = Path(tempfile.mkdtemp(prefix=".tmp-", dir=index_dir))
    try:
        save(index, staging)
        version = index_dir / f"v-{time.time_ns()}"
        staging.rename(version)
    except BaseException:
        shutil.rmtree(staging, ignore_errors=True)
        raise
    link = index_dir / f".current-{os.getpid()}-{time.time_ns()}"
    try:
        adopt_current(index_dir)
        link.symlink_to(version.name)
        os.replace(link, index_dir / CURRENT)
    except BaseException:  # nothing published: leave no version or link behind
        link.unlink(missing_ok=True)
        shutil.rmtree(version, ignore_errors=True)
        raise
    fsync_dir(index_dir)
    _prune(index_dir, keep, index.sentence_store)
    return version


def adopt_current(index_dir: Path, log: Callable[[str], None] = lambda _msg: None) -> None:
    """Turn a `current` that is a real folder (a restore with `cp -r` follows the link) back
    into a link to a version folder, so it can be swapped atomically again. Its files are then
    checked like any version's. Call it holding the build lock."""
    current = index_dir / CURRENT
    if current.is_symlink() or not current.is_dir():
        return
    version = index_dir / f"v-{time.time_ns()}"
    current.rename(version)
    link = index_dir / f".current-{os.getpid()}-{time.time_ns()}"
    link.symlink_to(version.name)
    os.replace(link, current)
    fsync_dir(index_dir)
    log(f"{current} was a folder, not a link; moved it to {version.name} and linked it")


def _prune(index_dir: Path, keep: int, store: object = None) -> None:
    """Remove old versions and abandoned temporary folders (readers may hold the last few)."""
    current = (index_dir / CURRENT).resolve().name
    versions = sorted((p for p in index_dir.glob("v-*") if p.is_dir()), key=lambda p: p.name)
    old = [v for v in versions[: max(0, len(versions) - keep)] if v.name != current]
    kept = [_read_manifest(v) for v in versions if v not in old]
    for folder in old:
        _release_milvus(_read_manifest(folder), [m for m in kept if m], store)
        shutil.rmtree(folder, ignore_errors=True)
    for stale in index_dir.glob(".tmp-*"):
        if time.time() - stale.stat().st_mtime > 3600:
            shutil.rmtree(stale, ignore_errors=True)


def _release_milvus(
    manifest: dict[str, Any] | None, kept: list[dict[str, Any]], store: object
) -> None:
    """Free what a pruned version held in Milvus and no kept version uses: its whole collection
    (another model or layout), or the rows of its article versions."""
    if manifest is None:
        return
    info = manifest.get("store", {})
    client = getattr(store, "_client", None)
    if info.get("backend") != "milvus" or client is None:
        return
    from qa.index.stores.milvus import doc_key, release

    name = info["collection"]
    users = [m for m in kept if m.get("store", {}).get("collection") == name]
    if not users:
        release(client, name, None)
        return
    live = {doc_key(d, h) for m in users for d, h in m.get("articles", {}).items()}
    mine = {doc_key(d, h) for d, h in manifest.get("articles", {}).items()}
    release(client, name, sorted(mine - live))


def read_manifest(index_dir: Path) -> dict[str, Any] | None:
    """The manifest of the current index, or None when there is none readable."""
    return _read_manifest(index_dir / CURRENT)


def _read_manifest(folder: Path) -> dict[str, Any] | None:
    try:
        data = json.loads((folder / MANIFEST).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    return data if isinstance(data, dict) else None


def load(index_dir: Path, *, verify: bool = True, milvus: MilvusConfig | None = None) -> Index:
    """Load the current index; refuse (IndexUnavailable) one that is missing or fails its hashes.

    A Milvus-backed index reconnects through `milvus` (else the URI in its manifest) and checks
    the collection's model and row counts.
    """
    # Resolved once: a publish that repoints `current` meanwhile cannot mix two versions' files.
    return _load_version((index_dir / CURRENT).resolve(), index_dir, verify, milvus)


def _load_version(
    folder: Path, index_dir: Path, verify: bool, milvus: MilvusConfig | None
) -> Index:
    manifest = _read_manifest(folder)
    if manifest is None:
        raise IndexUnavailable(f"no index at {index_dir} (run `qa index`)")
    if manifest.get("format_version") != FORMAT_VERSION:
        raise IndexUnavailable(
            f"index at {index_dir} has format {manifest.get('format_version')}, "
            f"this qa reads {FORMAT_VERSION}; rebuild it"
        )
    for name, digest in _integrity(manifest, folder, index_dir).items():
        path = folder / name
        if not path.is_file():
            raise IndexUnavailable(f"index file {path} is missing; rebuild the index")
        if verify and sha256_file(path) != digest:
            raise IndexUnavailable(
                f"index file {path} is corrupt (sha256 mismatch); rebuild the index"
            )
    try:
        raw_docs = json.loads((folder / DOCUMENTS).read_text(encoding="utf-8"))
        documents = [
            Document(
                doc_id=d["doc_id"],
                title=d["title"],
                text=d["text"],
                sha256=d["sha256"],
                sentences=tuple(Span(a, b, p) for a, b, p in d["sentences"]),
                **{key: d.get(key) for key in DOCUMENT_META},
            )
            for d in raw_docs
        ]
        # Memory-mapped: workers on one host share one copy through the page cache.
        sentence_vectors = np.load(folder / SENTENCE_VECTORS, mmap_mode="r")
        chunk_vectors = np.load(folder / CHUNK_VECTORS, mmap_mode="r")
        sentence_store, chunk_store = _open_stores(folder, manifest, documents, milvus)
        lexical = Lexical.load(folder / BM25_DIR)
        chunk_lexical = Lexical.load(folder / CHUNK_BM25_DIR)
        return Index(
            manifest,
            documents,
            sentence_vectors,
            chunk_vectors,
            sentence_store,
            chunk_store,
            lexical,
            chunk_lexical,
        )
    except IndexUnavailable:
        raise
    except Exception as err:  # any unreadable file means the same thing to the caller
        raise IndexUnavailable(f"index at {index_dir} is unreadable ({err}); rebuild it") from err


# Without these a manifest cannot vouch for the files beside it (or say what they were built
# from): such a manifest is damaged, never a reason to skip the checks.
_REQUIRED = ("model", "chunking", "store", "articles", "sources", "counts", "built_at", "files")


def _integrity(manifest: dict[str, Any], folder: Path, index_dir: Path) -> dict[str, str]:
    """The manifest's sha256 of every index file, refused (IndexUnavailable) unless it lists
    every file in `folder` and has every field a build writes."""
    missing = [key for key in _REQUIRED if key not in manifest]
    files = manifest.get("files")
    if missing or not isinstance(files, dict):
        raise IndexUnavailable(
            f"the manifest of {index_dir} lacks {', '.join(missing) or 'a valid files table'}; "
            "rebuild the index"
        )
    present = {
        str(p.relative_to(folder)) for p in folder.rglob("*") if p.is_file() and p.name != MANIFEST
    }
    required = {DOCUMENTS, SENTENCE_VECTORS, CHUNK_VECTORS} | present
    unlisted = sorted(name for name in required if not isinstance(files.get(name), str))
    if unlisted:
        shown = ", ".join(unlisted[:3]) + (" ..." if len(unlisted) > 3 else "")
        raise IndexUnavailable(
            f"the manifest of {index_dir} has no sha256 for {shown}; rebuild the index"
        )
    return {str(name): str(digest) for name, digest in files.items()}


def _open_stores(
    folder: Path, manifest: dict[str, Any], documents: list[Document], milvus: MilvusConfig | None
) -> tuple[VectorStore, VectorStore]:
    info = manifest.get("store", {})
    if info.get("backend", "faiss") == "faiss":
        return FaissStore.load(folder / SENTENCE_INDEX), FaissStore.load(folder / CHUNK_INDEX)
    from qa.index.stores.milvus import MilvusConfig, open_collection

    if info.get("layout") != MILVUS_LAYOUT:
        raise IndexUnavailable("the index uses an older Milvus layout; rebuild it")
    config = milvus or MilvusConfig(info["uri"], index_type=info.get("type", "FLAT"))
    return open_collection(
        config,
        info["collection"],
        manifest["model"]["weights_sha256"],
        _milvus_articles(documents, Chunking(**manifest["chunking"])),
    )


# ------------------------------------------------------------------------------- staleness


def stale_reasons(
    manifest: dict[str, Any] | None,
    sources: dict[str, str],
    model: ModelInfo | str,
    chunking: Chunking,
    milvus: MilvusConfig | None = None,
) -> list[str]:
    """Why an index with `manifest` does not match the seeds, model, chunking and store backend
    (`milvus`, or FAISS when None); [] if it does."""
    if manifest is None:
        return ["no index yet"]
    reasons = []
    if manifest.get("format_version") != FORMAT_VERSION:
        reasons.append("index format changed")
    weights = model if isinstance(model, str) else model.weights_sha256
    if manifest.get("model", {}).get("weights_sha256") != weights:
        reasons.append("embedding model changed")
    if manifest.get("chunking") != {"size": chunking.size, "overlap": chunking.overlap}:
        reasons.append("chunking changed")
    store = manifest.get("store", {})
    if store.get("backend", "faiss") != ("faiss" if milvus is None else "milvus"):
        reasons.append("store backend changed")
    elif milvus is not None and store.get("layout") != MILVUS_LAYOUT:
        reasons.append("Milvus collection layout changed")
    elif milvus is not None and (
        store.get("uri") != milvus.uri
        or store.get("prefix") != milvus.collection
        or store.get("type") != milvus.index_type
    ):
        reasons.append("Milvus URI, collection or index type changed")
    old = manifest.get("sources", {})
    added = sorted(set(sources) - set(old))
    removed = sorted(set(old) - set(sources))
    changed = sorted(k for k in set(sources) & set(old) if sources[k] != old[k])
    for label, names in (("added", added), ("removed", removed), ("changed", changed)):
        if names:
            shown = ", ".join(names[:3]) + (f" and {len(names) - 3} more" if len(names) > 3 else "")
            reasons.append(f"{label}: {shown}")
    return reasons


def _last_intact(
    index_dir: Path, milvus: MilvusConfig | None, log: Callable[[str], None]
) -> Index | None:
    """The newest earlier version that still passes its checks: rebuilding a damaged index from
    it re-embeds only the articles changed since, not all of them."""
    current = (index_dir / CURRENT).resolve().name
    for folder in sorted(index_dir.glob("v-*"), key=lambda p: p.name, reverse=True):
        if folder.name == current or not folder.is_dir():
            continue
        try:
            index = _load_version(folder, index_dir, True, milvus)
        except IndexUnavailable:
            continue
        log(f"reusing the vectors of the intact earlier version {folder.name}")
        return index
    return None


@contextmanager
def build_lock(index_dir: Path) -> Iterator[None]:
    """Serialise builders (e.g. several server processes starting at once)."""
    index_dir.mkdir(parents=True, exist_ok=True)
    with (index_dir / ".lock").open("a") as handle:
        fcntl.flock(handle, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)


@dataclass(frozen=True, slots=True)
class BuildReport:
    """What `ensure_index` did."""

    built: bool
    reasons: list[str]
    problems: list[str]
    seconds: float


def ensure_index(
    seeds_dir: Path,
    index_dir: Path,
    embedder: Callable[[], Embedder],
    weights_sha256: str,
    chunking: Chunking,
    *,
    batch_size: int = 64,
    progress: bool = False,
    log: Callable[[str], None] = lambda _msg: None,
    milvus: MilvusConfig | None = None,
) -> tuple[Index, BuildReport]:
    """Load the index when it matches the seeds folder and model; otherwise (re)build it first.

    `embedder` is called only when something has to be embedded, so an up-to-date index never
    waits for the model to load here.
    """
    started = time.perf_counter()
    with build_lock(index_dir):
        adopt_current(index_dir, log)
        sources = fingerprint_files(seeds_dir)
        previous: Index | None = None
        damaged = False
        try:
            previous = load(index_dir, milvus=milvus)
        except IndexUnavailable as err:
            if read_manifest(index_dir) is not None:
                log(f"existing index not usable: {err}")
            damaged = (index_dir / CURRENT).is_symlink()
            previous = _last_intact(index_dir, milvus, log) if damaged else None
        manifest = previous.manifest if previous is not None else None
        reasons = stale_reasons(manifest, sources, weights_sha256, chunking, milvus)
        if damaged:
            reasons.insert(0, "the published index is damaged")
        if previous is not None and not reasons:
            discard_checkpoints(index_dir / RESUME_DIR)  # left by a build another one superseded
            problems = list(previous.manifest.get("skipped", []))
            return previous, BuildReport(False, [], problems, time.perf_counter() - started)
        log("building index: " + "; ".join(reasons))
        documents, problems = read_corpus(seeds_dir)
        for problem in problems:
            log(f"skipped {problem}")
        index = build(
            documents,
            embedder(),
            chunking,
            previous=previous,
            sources=sources,
            skipped=problems,
            batch_size=batch_size,
            progress=progress,
            milvus=milvus,
            resume_dir=index_dir / RESUME_DIR,
            log=log,
        )
        publish(index, index_dir)
        discard_checkpoints(index_dir / RESUME_DIR)  # kept until the vectors are published
        return index, BuildReport(True, reasons, problems, time.perf_counter() - started)
