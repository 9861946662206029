"""Find and score the sentences that may answer a question.

Candidates come from three searches: dense over sentences, dense over chunks (so a sentence that
only makes sense with its neighbours is still found by their words), and BM25 over sentences.
Each candidate then gets a row of features, and the `Ranker` turns them into one score.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache
from typing import TYPE_CHECKING

import numpy as np

from qa.lexical import tokenize

if TYPE_CHECKING:
    from numpy.typing import NDArray

    from qa.embed import Embedder
    from qa.index import Index
    from qa.ranker import Ranker

FEATURES = (
    "dense",  # cosine of question and sentence
    "chunk_dense",  # best cosine of question and a chunk holding the sentence
    "bm25",  # BM25 of the sentence, over the best score the question could reach
    "window_bm25",  # best of that over the sentence and its neighbours
    "coverage",  # IDF-weighted share of question terms in the sentence
    "window_coverage",  # ... in the sentence and its neighbours together
)


@dataclass(frozen=True, slots=True)
class Candidate:
    """A sentence (global row in the index), its features and the ranker's logit."""

    row: int
    features: tuple[float, ...]
    score: float

    def feature(self, name: str) -> float:
        return self.features[FEATURES.index(name)]


class Retriever:
    """Hybrid retrieval over an `Index`, scored by a `Ranker`."""

    def __init__(
        self, index: Index, embedder: Embedder, ranker: Ranker, candidates: int = 30
    ) -> None:
        missing = set(ranker.features) - set(FEATURES)
        if missing:
            raise ValueError(f"ranker {ranker.source} uses unknown features {sorted(missing)}")
        self.index = index
        self.embedder = embedder
        self.ranker = ranker
        self.candidates = candidates
        self._columns = [FEATURES.index(f) for f in ranker.features]
        # Sentence tokens for coverage, computed on first use (thread-safe, bounded).
        self._row_tokens = lru_cache(maxsize=200_000)(self._tokens_of)

    def retrieve(self, question: str) -> list[Candidate]:
        """Candidate sentences for `question`, best first."""
        index = self.index
        if index.sentence_count == 0:
            return []
        q = self.embedder.encode([question])[0]
        q_tokens = tokenize([question])[0]
        bm25 = index.lexical.scores(q_tokens)
        rows = self._candidate_rows(q, bm25)
        matrix = self._features(rows, q, q_tokens, bm25)
        logits = self.ranker.logits(matrix[:, self._columns])
        order = sorted(range(len(rows)), key=lambda i: (-logits[i], rows[i]))
        return [
            Candidate(rows[i], tuple(float(x) for x in matrix[i]), float(logits[i])) for i in order
        ]

    def _candidate_rows(self, q: NDArray[np.float32], bm25: NDArray[np.float32]) -> list[int]:
        index = self.index
        n = self.candidates
        rows: set[int] = set()
        _, hits = index.sentence_store.search(q[None, :], n)
        rows.update(int(r) for r in hits[0] if r >= 0)
        _, chunk_hits = index.chunk_store.search(q[None, :], max(1, n // 3))
        for c in chunk_hits[0]:
            if c >= 0:
                rows.update(range(int(index.chunk_first[c]), int(index.chunk_last[c])))
        if bm25.any():
            top = np.argpartition(-bm25, min(n, len(bm25) - 1))[:n]
            rows.update(int(r) for r in top if bm25[r] > 0)
        return sorted(rows)

    def _tokens_of(self, row: int) -> frozenset[str]:
        return frozenset(tokenize([self.index.sentence_text(row)])[0])

    def _neighbours(self, row: int) -> list[int]:
        doc = int(self.index.sentence_doc[row])
        first = int(self.index.doc_first_row[doc])
        last = int(self.index.doc_first_row[doc + 1])
        return list(range(max(first, row - 1), min(last, row + 2)))

    def _features(
        self,
        rows: list[int],
        q: NDArray[np.float32],
        q_tokens: list[str],
        bm25: NDArray[np.float32],
    ) -> NDArray[np.float64]:
        index = self.index
        lexical = index.lexical
        dense = index.sentence_vectors[rows] @ q
        out = np.zeros((len(rows), len(FEATURES)), dtype=np.float64)
        for i, row in enumerate(rows):
            window = self._neighbours(row)
            tokens = self._row_tokens(row)
            window_tokens = frozenset().union(*(self._row_tokens(r) for r in window))
            out[i] = (
                dense[i],
                float(np.max(index.chunk_vectors[index.sentence_chunks[row]] @ q)),
                bm25[row],
                max(bm25[r] for r in window),
                lexical.coverage(q_tokens, tokens),
                lexical.coverage(q_tokens, window_tokens),
            )
        return out
