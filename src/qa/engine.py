"""The service's state: the embedder and the current index, with the answerer over them.

Everything a question touches hangs off one immutable `State`; publishing a new index swaps
that one reference, so a question in flight finishes on the state it started with.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING

from qa.answer import Answer, Answerer
from qa.embed import Embedder, SentenceTransformerEmbedder, verify_model
from qa.index import BuildReport, Chunking, Index, ensure_index
from qa.ranker import Ranker
from qa.retrieve import Retriever

if TYPE_CHECKING:
    from qa.config import Settings


@dataclass(frozen=True)
class State:
    """One index and the objects that answer from it."""

    index: Index
    answerer: Answerer


class Engine:
    """Answers questions from the current index; built once per process."""

    def __init__(
        self, settings: Settings, embedder: Embedder, index: Index, ranker: Ranker
    ) -> None:
        self.settings = settings
        self.embedder = embedder
        self.ranker = ranker
        self.state = self._state(index)

    def _state(self, index: Index) -> State:
        retriever = Retriever(index, self.embedder, self.ranker, self.settings.candidates)
        return State(index, Answerer(index, retriever, self.settings.abstain_threshold))

    @property
    def index(self) -> Index:
        return self.state.index

    def ask(self, question: str, top_k: int = 3) -> Answer:
        return self.state.answerer.ask(question, top_k)

    def swap(self, index: Index) -> None:
        """Serve `index` from now on (one reference assignment: atomic for readers)."""
        self.state = self._state(index)

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
        return cls(settings, models.get(), index, Ranker.load(settings.ranker)), report


class ModelLoader:
    """Loads the embedder on first use, so an up-to-date index never waits for it."""

    def __init__(self, settings: Settings, embedder: Embedder | None = None) -> None:
        self.settings = settings
        self._embedder = embedder

    @property
    def weights_sha256(self) -> str:
        if self._embedder is not None:
            return self._embedder.fingerprint.weights_sha256
        return verify_model(self.settings.model)[2]

    def get(self) -> Embedder:
        if self._embedder is None:
            self._embedder = SentenceTransformerEmbedder(
                self.settings.model, threads=self.settings.threads
            )
        return self._embedder


def prepare_index(
    settings: Settings,
    models: ModelLoader,
    *,
    progress: bool = False,
    log: Callable[[str], None] = lambda _msg: None,
) -> tuple[Index, BuildReport]:
    """The index for `settings`, (re)built from the seeds folder when missing or stale."""
    return ensure_index(
        settings.seeds_dir,
        settings.index_dir,
        models.get,
        models.weights_sha256,
        Chunking(settings.chunk_size, settings.chunk_overlap),
        batch_size=settings.batch_size,
        progress=progress,
        log=log,
    )
