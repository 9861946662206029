"""The service's state: the embedder and the current index, with the answerer over them.

Everything a question touches hangs off one immutable `State`; publishing a new index swaps
that one reference, so a question in flight finishes on the state it started with.

Writes (`Engine.write`, `Engine.remove`) go in this order, all under one lock shared by every
process on the index folder: the article file is made durable in the seeds folder first, then a
new index is built incrementally (only changed articles are embedded) and published, then the
state is swapped, and only then does the call return. A crash at any point leaves the seeds
folder as the truth, and the next start-up (`prepare_index`) brings the index back in line.
"""

from __future__ import annotations

import os
import shutil
import threading
import time
from collections.abc import Callable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Literal

from qa.answer.answerer import Answer, Answerer
from qa.answer.filters import ArticleFilter, allowed_rows
from qa.answer.ranker import Ranker
from qa.answer.retrieval import Retriever
from qa.core.cancel import abandon_when, checkpoint
from qa.core.runtime import limit_threads
from qa.corpus.seeds import (
    Article,
    clean_temp_files,
    read_seeds,
    remove_seeds,
    seed_files,
    write_seed,
)
from qa.embed.model import Embedder, SentenceTransformerEmbedder, verify_model
from qa.index.build import build, embed_articles
from qa.index.chunking import Chunking
from qa.index.embed_corpus import Reusable
from qa.index.ensure import BuildReport, ensure_index
from qa.index.errors import IndexUnavailable
from qa.index.layout import CURRENT
from qa.index.lock import build_lock
from qa.index.manifest import has_manifest
from qa.index.model import Index
from qa.index.storage import load, publish
from qa.index.stores.base import StoreUnavailable
from qa.index.stores.registry import configured

if TYPE_CHECKING:
    from qa.core.settings import Settings
    from qa.corpus.documents import Document
    from qa.embed.onnx import Exported


@dataclass(frozen=True)
class State:
    """One index and the objects that answer from it."""

    index: Index
    answerer: Answerer
    version: str | None = None  # the index folder it came from, e.g. "v-1732712345123456789"
    loaded_at: float = 0.0  # when it started being served (time.time())


class DocIdTaken(ValueError):
    """POST of an article whose doc_id already exists."""


class IndexUpdateFailed(RuntimeError):
    """The seeds folder was changed but the index could not be rebuilt from it."""


@dataclass(frozen=True, slots=True)
class Outcome:
    """What a write did to one article."""

    doc_id: str
    change: Literal["created", "replaced", "unchanged", "removed", "missing"]
    document: Document | None = None


class Engine:
    """Answers questions from the current index; built once per process."""

    def __init__(
        self,
        settings: Settings,
        embedder: Embedder,
        index: Index,
        ranker: Ranker,
        *,
        version: str | None = None,
    ) -> None:
        self.settings = settings
        self.embedder = embedder
        self.ranker = ranker
        self.abstain_threshold = (
            settings.abstain_threshold
            if settings.abstain_threshold is not None
            else ranker.abstain_threshold
        )
        self.reloads = 0
        self._lock = threading.Lock()  # one writer per process; build_lock spans processes
        self._ignored: str | None = None
        self.state = self._state(index, version)

    def _state(self, index: Index, version: str | None = None) -> State:
        retriever = Retriever(index, self.embedder, self.ranker, self.settings.candidates)
        answerer = Answerer(index, retriever, self.abstain_threshold)
        return State(index, answerer, version, time.time())

    @property
    def index(self) -> Index:
        return self.state.index

    def ask(self, question: str, top_k: int = 3, where: ArticleFilter | None = None) -> Answer:
        """Answer from the current index; with `where`, only from the articles it matches
        (UnknownArticles when it names a doc_id the index does not have)."""
        state = self.state  # the mask and the answer must come from the same index
        allowed = allowed_rows(state.index, where) if where is not None and where.active else None
        return state.answerer.ask(question, top_k, allowed)

    def swap(self, index: Index, version: str | None = None) -> None:
        """Serve `index` from now on (one reference assignment: atomic for readers)."""
        self.state = self._state(index, version)
        self.reloads += 1

    # ---------------------------------------------------------------------------- writes

    @contextmanager
    def _writing(self) -> Iterator[None]:
        with self._lock, build_lock(self.settings.index_dir):
            yield

    def embed(self, articles: Sequence[Article]) -> Reusable:
        """The vectors of `articles` for `write(fresh=...)`. Embedding is most of a write's
        time: done first, without the writer lock, it can be abandoned (`qa.core.cancel`) with
        nothing changed, and never makes other writes wait."""
        return embed_articles(
            [a.document for a in articles],
            self.embedder,
            self._chunking(),
            self.index,
            self.settings.batch_size,
        )

    def write(
        self,
        articles: Sequence[Article],
        *,
        create_only: bool = False,
        fresh: Reusable | None = None,
    ) -> list[Outcome]:
        """Store `articles` durably in the seeds folder, then index and serve them.

        With `create_only`, a doc_id that already exists raises DocIdTaken and nothing changes.
        `fresh` is `embed(articles)` (embedded here when None). Until the first file is
        written the write can be abandoned (`qa.core.cancel`), with nothing changed.
        """
        seeds = self.settings.seeds_dir
        if fresh is None:
            fresh = self.embed(articles)
        with self._writing():
            checkpoint()  # the client left while this write waited for its turn
            if create_only:
                for article in articles:
                    if seed_files(seeds, article.doc_id) or article.doc_id in self.index.doc_pos:
                        raise DocIdTaken(
                            f"doc_id {article.doc_id!r} already exists; "
                            f"PUT /documents/{article.doc_id} replaces it"
                        )
            outcomes = []
            with abandon_when(None):  # from the first file written on, the write completes
                for article in articles:
                    existing = seed_files(seeds, article.doc_id)
                    if len(existing) == 1 and _same_bytes(existing[0], article.data):
                        change: Literal["created", "replaced", "unchanged"] = "unchanged"
                    else:
                        write_seed(seeds, article)
                        change = "replaced" if existing else "created"
                    outcomes.append(Outcome(article.doc_id, change, article.document))
                self._refresh({a.doc_id: a.document for a in articles}, fresh)
            return outcomes

    def _chunking(self) -> Chunking:
        return Chunking(self.settings.chunk_size, self.settings.chunk_overlap)

    def remove(self, doc_ids: Sequence[str]) -> list[Outcome]:
        """Delete the articles durably from the seeds folder, then index and serve the rest."""
        seeds = self.settings.seeds_dir
        with self._writing(), abandon_when(None):
            outcomes = []
            for doc_id in doc_ids:
                files = seed_files(seeds, doc_id)
                known = bool(files) or doc_id in self.index.doc_pos
                remove_seeds(seeds, files)
                outcomes.append(Outcome(doc_id, "removed" if known else "missing"))
            self._refresh({})
            return outcomes

    def refresh(self) -> bool:
        """Bring the served and published index in line with the seeds folder; True if rebuilt."""
        with self._writing():
            return self._refresh({})

    def _refresh(self, known: Mapping[str, Document], fresh: Reusable | None = None) -> bool:
        settings = self.settings
        current = self.state
        reusable = {d.doc_id: d for d in current.index.documents} | dict(known)
        corpus = read_seeds(settings.seeds_dir, reusable)
        if corpus.sources == current.index.manifest.sources and current.version == (
            current_version(settings.index_dir)
        ):
            return False
        try:
            index = build(
                corpus.documents,
                self.embedder,
                self._chunking(),
                previous=current.index,
                sources=corpus.sources,
                skipped=corpus.problems,
                batch_size=settings.batch_size,
                store=configured(settings),
                fresh=fresh,
            )
            version = publish(index, settings.index_dir)
        except Exception as err:
            raise IndexUpdateFailed(
                f"the seeds folder was updated but the index could not be ({err}); the change "
                "is kept and will be indexed by the next write or start-up"
            ) from err
        self.swap(index, version.name)
        return True

    def follow(self, log: Callable[[str], None] = lambda _msg: None) -> bool:
        """Serve the index another process published (`qa add`, another worker); True if swapped.

        A published index that fails its checks is never served: it is rebuilt from the seeds.
        """
        index_dir = self.settings.index_dir
        if current_version(index_dir) in (None, self.state.version, self._ignored):
            return False
        with self._lock:
            latest = current_version(index_dir)
            if latest in (None, self.state.version, self._ignored):
                return False
            try:
                index = load(index_dir, store=configured(self.settings))
            except StoreUnavailable as err:  # the store is down, not the index: retry later
                log(f"published index {latest} cannot be opened now ({err})")
                return False
            except IndexUnavailable as err:
                log(f"published index {latest} is not usable ({err}); rebuilding it")
                with build_lock(index_dir):
                    return self._refresh({})
            model = index.manifest.model.weights_sha256
            if model != self.embedder.fingerprint.weights_sha256 or (
                index.manifest.chunking != self._chunking()
            ):
                self._ignored = latest
                log(f"published index {latest} was built with another model or chunking; ignored")
                return False
            self.swap(index, latest)
            log(f"now serving index {latest} ({len(index.documents)} articles)")
            return True

    @classmethod
    def open(
        cls,
        settings: Settings,
        *,
        embedder: Embedder | None = None,
        progress: bool = False,
        log: Callable[[str], None] = lambda _msg: None,
    ) -> tuple[Engine, BuildReport]:
        """Load the model and the index, building the index first when it is missing or stale."""
        models = ModelLoader(settings, embedder)
        index, report = prepare_index(settings, models, progress=progress, log=log)
        version = current_version(settings.index_dir)
        ranker = Ranker.load(settings.ranker)
        return cls(settings, models.get(), index, ranker, version=version), report


class ModelLoader:
    """Loads the embedder on first use, so an up-to-date index never waits for it.

    `settings.encoder` picks the implementation; the ONNX ones are exported from the verified
    weights on first need and cached (see `qa.embed.onnx`).
    """

    def __init__(self, settings: Settings, embedder: Embedder | None = None) -> None:
        self.settings = settings
        self._embedder = embedder
        self._exported: Exported | None = None

    @property
    def weights_sha256(self) -> str:
        """sha256 of the weight file that makes the vectors: it differs per encoder, so an index
        built by one encoder is stale for another and their vectors are never mixed."""
        if self._embedder is not None:
            return self._embedder.fingerprint.weights_sha256
        if self.settings.encoder == "torch":
            return verify_model(self.settings.model)[2]
        return self._export().sha256

    def _export(self) -> Exported:
        if self._exported is None:
            from qa.embed.onnx import export_encoder

            settings = self.settings
            self._exported = export_encoder(
                settings.model, settings.encoder, settings.encoder_cache
            )
        return self._exported

    def get(self) -> Embedder:
        if self._embedder is None:
            threads = limit_threads(self.settings.threads)
            if self.settings.encoder == "torch":
                self._embedder = SentenceTransformerEmbedder(self.settings.model, threads=threads)
            else:
                from qa.embed.onnx import OnnxEmbedder

                self._embedder = OnnxEmbedder(self._export(), threads=threads)
        return self._embedder


def prepare_index(
    settings: Settings,
    models: ModelLoader,
    *,
    progress: bool = False,
    log: Callable[[str], None] = lambda _msg: None,
) -> tuple[Index, BuildReport]:
    """The index for `settings`, (re)built from the seeds folder when missing or stale."""
    recover(settings.seeds_dir, settings.index_dir, log)
    return ensure_index(
        settings.seeds_dir,
        settings.index_dir,
        models.get,
        models.weights_sha256,
        Chunking(settings.chunk_size, settings.chunk_overlap),
        batch_size=settings.batch_size,
        progress=progress,
        log=log,
        store=configured(settings),
    )


def current_version(index_dir: Path) -> str | None:
    """Name of the published index folder `current` points at, or None."""
    try:
        return os.readlink(index_dir / CURRENT)
    except OSError:
        return None


def recover(seeds_dir: Path, index_dir: Path, log: Callable[[str], None]) -> None:
    """Clear what an interrupted write or build left behind (a killed process's temp files)."""
    if not seeds_dir.is_dir():
        return  # ensure_index reports it
    if (index_dir / CURRENT).is_symlink() and not has_manifest(index_dir):
        log(f"the manifest of {index_dir / CURRENT} is missing or unreadable; rebuilding the index")
    with build_lock(index_dir):  # every writer holds it, so no temp file here is in use
        for path in clean_temp_files(seeds_dir):
            log(f"removed {path.name}, left by an interrupted write")
        for path in index_dir.glob(".tmp-*"):
            shutil.rmtree(path, ignore_errors=True)
        for path in index_dir.glob(".current-*"):
            path.unlink(missing_ok=True)


def _same_bytes(path: Path, data: bytes) -> bool:
    try:
        return path.stat().st_size == len(data) and path.read_bytes() == data
    except OSError:
        return False
