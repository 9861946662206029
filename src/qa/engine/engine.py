"""The service's state: the embedder and the current index, with the answerer over them.

Everything a question touches hangs off one immutable `State`; publishing a new index swaps
that one reference, so a question in flight finishes on the state it started with. Writes
(`Engine.write`, `Engine.remove`) take the writer locks, run the steps of `qa.engine.updates`
and swap the state before they return.
"""

from __future__ import annotations

import dataclasses
import threading
import time
from collections.abc import Callable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from typing import TYPE_CHECKING

from qa.answer.answerer import DEFAULT_SPAN_THRESHOLD, Answer, Answerer
from qa.answer.filters import ArticleFilter, allowed_rows
from qa.answer.followup import Resolution, Turn, resolve
from qa.answer.ranker import Ranker
from qa.answer.reader import Reader
from qa.answer.reading import ReaderStage, Reads
from qa.answer.retrieval import Retriever
from qa.core.cancel import abandon_when, checkpoint
from qa.core.runtime import resolve_threads
from qa.corpus.seeds import ArticleFile
from qa.embed.loader import ModelLoader
from qa.embed.model import Embedder
from qa.engine import updates
from qa.engine.startup import current_version, prepare_index
from qa.engine.updates import WriteOutcome
from qa.index.chunking import Chunking
from qa.index.embed_corpus import Reusable
from qa.index.ensure import BuildReport
from qa.index.errors import IndexUnavailable
from qa.index.lock import build_lock
from qa.index.model import Index
from qa.index.storage import load
from qa.index.stores.base import StoreUnavailable
from qa.index.stores.registry import configured

if TYPE_CHECKING:
    import numpy as np
    from numpy.typing import NDArray

    from qa.core.settings import Settings
    from qa.corpus.documents import Document


@dataclass(frozen=True)
class State:
    """One index and the objects that answer from it."""

    index: Index
    answerer: Answerer
    version: str | None = None  # the index folder it came from, e.g. "v-1732712345123456789"
    loaded_at: float = 0.0  # when it started being served (time.time())


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
        reader: Reads | None = None,
    ) -> None:
        self.settings = settings
        self.embedder = embedder
        self.ranker = ranker
        self.stage = reader_stage(reader, ranker, settings.reader_candidates)
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
        retriever = Retriever(
            index, self.embedder, self.ranker, self.settings.candidates, self.stage
        )
        span_threshold = float(
            (self.ranker.meta or {}).get("span_threshold", DEFAULT_SPAN_THRESHOLD)
        )
        answerer = Answerer(index, retriever, self.abstain_threshold, span_threshold)
        return State(index, answerer, version, time.time())

    @property
    def index(self) -> Index:
        return self.state.index

    def ask(
        self,
        question: str,
        top_k: int = 3,
        where: ArticleFilter | None = None,
        history: Sequence[Turn] = (),
    ) -> Answer:
        """Answer from the current index; with `where`, only from the articles it matches
        (UnknownArticles when it names a doc_id the index does not have). With `history` (the
        previous questions, oldest first), a follow-up is answered as what it stands for
        (`qa.answer.followup`); a question that stands alone is answered as without it."""
        state = self.state  # the mask and the answer must come from the same index
        allowed = allowed_rows(state.index, where) if where is not None and where.active else None
        known = [t if t.doc_id in state.index.doc_pos else Turn(t.question) for t in history]
        found = resolve(question, known)
        if found is None:
            return state.answerer.ask(question, top_k, allowed)
        return self._follow_up(state, question, found, top_k, where, allowed)

    def _follow_up(
        self,
        state: State,
        question: str,
        found: Resolution,
        top_k: int,
        where: ArticleFilter | None,
        allowed: NDArray[np.bool_] | None,
    ) -> Answer:
        """A follow-up: from the previous answer's article first when it is about "it" (and
        the filter allows it), from every allowed article (`allowed`, the filter's rows),
        asked as `found.query`, when that article does not answer."""
        started = time.perf_counter()
        where = where or ArticleFilter()
        answer = None
        if found.prefer_doc is not None and where.matches(
            found.prefer_doc, state.index.published_days[state.index.doc_pos[found.prefer_doc]]
        ):
            only = dataclasses.replace(where, doc_ids=frozenset({found.prefer_doc}))
            answer = state.answerer.ask(found.within, top_k, allowed_rows(state.index, only))
        if answer is None or answer.text is None:
            answer = state.answerer.ask(found.query, top_k, allowed)
        return dataclasses.replace(
            answer, question=question, interpreted_as=found.interpreted_as, took_ms=_ms(started)
        )

    def swap(self, index: Index, version: str | None = None) -> None:
        """Serve `index` from now on (one reference assignment: atomic for readers)."""
        self.state = self._state(index, version)
        self.reloads += 1

    # ---------------------------------------------------------------------------- writes

    @contextmanager
    def _writing(self) -> Iterator[None]:
        with self._lock, build_lock(self.settings.index_dir):
            yield

    def embed(self, articles: Sequence[ArticleFile]) -> Reusable:
        """The vectors of `articles` for `write(fresh=...)`. Embedding is most of a write's
        time: done first, without the writer lock, it can be abandoned (`qa.core.cancel`) with
        nothing changed, and never makes other writes wait."""
        return updates.embed(articles, self.embedder, self.settings, self.index)

    def write(
        self,
        articles: Sequence[ArticleFile],
        *,
        create_only: bool = False,
        fresh: Reusable | None = None,
    ) -> list[WriteOutcome]:
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
                updates.refuse_taken(seeds, articles, self.index)
            with abandon_when(None):  # from the first file written on, the write completes
                outcomes = updates.store(seeds, articles)
                self._refresh({a.doc_id: a.document for a in articles}, fresh)
            return outcomes

    def remove(self, doc_ids: Sequence[str]) -> list[WriteOutcome]:
        """Delete the articles durably from the seeds folder, then index and serve the rest."""
        with self._writing(), abandon_when(None):
            outcomes = updates.delete(self.settings.seeds_dir, doc_ids, self.index)
            self._refresh({})
            return outcomes

    def refresh(self) -> bool:
        """Bring the served and published index in line with the seeds folder; True if rebuilt."""
        with self._writing():
            return self._refresh({})

    def _refresh(self, known: Mapping[str, Document], fresh: Reusable | None = None) -> bool:
        current = self.state
        rebuilt = updates.rebuild(
            self.settings, self.embedder, current.index, current.version, known, fresh
        )
        if rebuilt is None:
            return False
        self.swap(*rebuilt)
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
                index.manifest.chunking != Chunking.from_settings(self.settings)
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
        reader: Reads | None = None,
        progress: bool = False,
        log: Callable[[str], None] = lambda _msg: None,
    ) -> tuple[Engine, BuildReport]:
        """Load the models and the index, building the index first when it is missing or
        stale; the packaged reader unless `reader` is given (or QA_READER_CANDIDATES=0)."""
        models = ModelLoader(settings, embedder)
        index, report = prepare_index(settings, models, progress=progress, log=log)
        version = current_version(settings.index_dir)
        ranker = Ranker.load(settings.ranker)
        if reader is None and settings.reader_candidates:
            # One thread a pair; the pairs of one question on this process's cores at once.
            reader = Reader(threads=1, parallel=resolve_threads(settings.threads, settings.workers))
            reader.warm_up()
        engine = cls(settings, models.get(), index, ranker, version=version, reader=reader)
        return engine, report


def reader_stage(reader: Reads | None, ranker: Ranker, k: int) -> ReaderStage | None:
    """The second ranking stage: `reader` on the best `k` candidates, weighted against the
    ranker's logit as `qa train-confidence` chose (ranker meta `reader_ranker_weight`)."""
    if reader is None or k <= 0:
        return None
    weight = float((ranker.meta or {}).get("reader_ranker_weight", 0.0))
    return ReaderStage(reader, k, weight)


def _ms(started: float) -> float:
    """Milliseconds since `started`: every ask of a follow-up, when there were several."""
    return round((time.perf_counter() - started) * 1000, 3)
