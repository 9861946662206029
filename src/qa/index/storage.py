"""Save, publish, prune and load index versions in the index folder (see `qa.index.layout`)."""

from __future__ import annotations

import json
import os
import shutil
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from qa.corpus.documents import Document, Meta, Span, cap_meta
from qa.corpus.seeds import fsync_dir
from qa.embed.model import sha256_file
from qa.index.errors import IndexUnavailable
from qa.index.layout import (
    CHUNK_BM25_DIR,
    CHUNK_VECTORS,
    CURRENT,
    DOCUMENTS,
    MANIFEST,
    SENTENCE_VECTORS,
)
from qa.index.lexical import BM25_DIR, Lexical
from qa.index.manifest import Manifest, load_manifest, try_manifest, write_manifest
from qa.index.model import Index
from qa.index.stores import registry

if TYPE_CHECKING:
    from qa.index.stores.base import StoreBackend

DOCUMENT_META = ("url", "published", "source", "author")


def _files(folder: Path) -> list[str]:
    """Every file under `folder` but the manifest, relative to it."""
    return sorted(
        str(p.relative_to(folder)) for p in folder.rglob("*") if p.is_file() and p.name != MANIFEST
    )


def _fsync(path: Path) -> None:
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
    (folder / DOCUMENTS).write_text(json.dumps(docs, ensure_ascii=False), encoding="utf-8")
    np.save(folder / SENTENCE_VECTORS, index.sentence_vectors)
    np.save(folder / CHUNK_VECTORS, index.chunk_vectors)
    index.backend.save(index.stores, folder)
    index.lexical.save(folder / BM25_DIR)
    index.chunk_lexical.save(folder / CHUNK_BM25_DIR)
    files = _files(folder)
    for name in files:  # durable before the manifest that vouches for them
        _fsync(folder / name)
    index.manifest = index.manifest.with_files({n: sha256_file(folder / n) for n in files})
    write_manifest(index.manifest, folder / MANIFEST)
    _fsync(folder / MANIFEST)
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
    prune(index_dir, keep, index.backend)
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


def prune(index_dir: Path, keep: int, backend: StoreBackend) -> None:
    """Remove old versions and abandoned temporary folders (readers may hold the last few);
    `backend`, the published index's, frees what the removed versions held outside them."""
    current = (index_dir / CURRENT).resolve().name
    versions = sorted((p for p in index_dir.glob("v-*") if p.is_dir()), key=lambda p: p.name)
    old = [v for v in versions[: max(0, len(versions) - keep)] if v.name != current]
    kept = [m for m in (try_manifest(v) for v in versions if v not in old) if m is not None]
    for folder in old:
        pruned = try_manifest(folder)
        if pruned is not None:
            backend.release(pruned, kept)
        shutil.rmtree(folder, ignore_errors=True)
    for stale in index_dir.glob(".tmp-*"):
        if time.time() - stale.stat().st_mtime > 3600:
            shutil.rmtree(stale, ignore_errors=True)


def load(index_dir: Path, *, verify: bool = True, store: StoreBackend | None = None) -> Index:
    """Load the current index; refuse (IndexUnavailable) one that is missing or fails its hashes.

    An index whose vectors live outside its folder reopens them through `store` when that is
    its backend (else as its manifest records), and the backend checks they are all there.
    """
    # Resolved once: a publish that repoints `current` meanwhile cannot mix two versions' files.
    return load_version((index_dir / CURRENT).resolve(), index_dir, verify, store)


def load_version(folder: Path, index_dir: Path, verify: bool, store: StoreBackend | None) -> Index:
    """Load the version in `folder` of the index in `index_dir` (see `load`)."""
    manifest = load_manifest(folder, index_dir)
    for name, digest in _integrity(manifest, folder, index_dir).items():
        path = folder / name
        if not path.is_file():
            raise IndexUnavailable(f"index file {path} is missing; rebuild the index")
        if verify and sha256_file(path) != digest:
            raise IndexUnavailable(
                f"index file {path} is corrupt (sha256 mismatch); rebuild the index"
            )
    try:
        documents = _read_documents(folder / DOCUMENTS)
        # Memory-mapped: workers on one host share one copy through the page cache.
        sentence_vectors = np.load(folder / SENTENCE_VECTORS, mmap_mode="r")
        chunk_vectors = np.load(folder / CHUNK_VECTORS, mmap_mode="r")
        backend = registry.for_record(manifest.store, store)
        stores = backend.open(folder, manifest, documents)
        lexical = Lexical.load(folder / BM25_DIR)
        chunk_lexical = Lexical.load(folder / CHUNK_BM25_DIR)
        return Index(
            manifest,
            documents,
            sentence_vectors,
            chunk_vectors,
            stores,
            backend,
            lexical,
            chunk_lexical,
        )
    except IndexUnavailable:
        raise
    except Exception as err:  # any unreadable file means the same thing to the caller
        raise IndexUnavailable(f"index at {index_dir} is unreadable ({err}); rebuild it") from err


def _read_documents(path: Path) -> list[Document]:
    raw: list[dict[str, Any]] = json.loads(path.read_text(encoding="utf-8"))
    return [_within_caps(d) for d in raw]


def _within_caps(d: dict[str, Any]) -> Document:
    """The stored article, its metadata cut to today's caps: an index written before them may
    hold a title of megabytes, which every answer citing it would carry."""
    meta, _ = cap_meta(Meta(title=d["title"], **{key: d.get(key) for key in DOCUMENT_META}))
    return Document(
        doc_id=d["doc_id"],
        title=meta.title or "",
        text=d["text"],
        sha256=d["sha256"],
        sentences=tuple(Span(a, b, p) for a, b, p in d["sentences"]),
        **{key: getattr(meta, key) for key in DOCUMENT_META},
    )


def _integrity(manifest: Manifest, folder: Path, index_dir: Path) -> dict[str, str]:
    """The manifest's sha256 of every index file, refused (IndexUnavailable) unless it lists
    every file in `folder` and the files every index has."""
    required = {DOCUMENTS, SENTENCE_VECTORS, CHUNK_VECTORS} | set(_files(folder))
    unlisted = sorted(name for name in required if name not in manifest.files)
    if unlisted:
        shown = ", ".join(unlisted[:3]) + (" ..." if len(unlisted) > 3 else "")
        raise IndexUnavailable(
            f"the manifest of {index_dir} has no sha256 for {shown}; rebuild the index"
        )
    return dict(manifest.files)


def last_intact(
    index_dir: Path, store: StoreBackend | None, log: Callable[[str], None]
) -> Index | None:
    """The newest earlier version that still passes its checks: rebuilding a damaged index from
    it re-embeds only the articles changed since, not all of them."""
    current = (index_dir / CURRENT).resolve().name
    for folder in sorted(index_dir.glob("v-*"), key=lambda p: p.name, reverse=True):
        if folder.name == current or not folder.is_dir():
            continue
        try:
            index = load_version(folder, index_dir, True, store)
        except IndexUnavailable:
            continue
        log(f"reusing the vectors of the intact earlier version {folder.name}")
        return index
    return None
