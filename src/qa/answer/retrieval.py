"""Find the sentences that may answer a question, and score them.

Candidates come from four searches: dense and BM25 over sentences, dense and BM25 over chunks
(so a sentence that only makes sense with its neighbours is still found by their words). Each
candidate then gets a row of features (`qa.answer.features`), and the `Ranker` turns them into
one score.
"""

from __future__ import annotations

from functools import lru_cache
from typing import TYPE_CHECKING

import numpy as np

from qa.answer.batch import Batch, RowTokens
from qa.answer.candidate import Candidate
from qa.answer.cues import focus_word
from qa.answer.features import ALL_FEATURES, feature_matrix, question_values, relative
from qa.index.lexical import tokenize
from qa.index.stores.base import TextSearchStore

if TYPE_CHECKING:
    from numpy.typing import NDArray

    from qa.answer.ranker import Ranker
    from qa.answer.reading import ReaderStage
    from qa.embed.model import Embedder
    from qa.index.model import Index


class Retriever:
    """Hybrid retrieval over an `Index`, scored by a `Ranker`."""

    def __init__(
        self,
        index: Index,
        embedder: Embedder,
        ranker: Ranker,
        candidates: int = 30,
        stage: ReaderStage | None = None,
    ) -> None:
        missing = set(ranker.features) - set(ALL_FEATURES)
        if missing:
            raise ValueError(f"ranker {ranker.source} uses unknown features {sorted(missing)}")
        self.index = index
        self.embedder = embedder
        self.ranker = ranker
        self.candidates = candidates
        self.stage = stage
        self._columns = [ALL_FEATURES.index(f) for f in ranker.features]
        # Checked once: an isinstance against a runtime Protocol walks its members every time.
        sentences, chunks = index.sentence_store, index.chunk_store
        self._text_search: tuple[TextSearchStore, TextSearchStore] | None = (
            (sentences, chunks)
            if isinstance(sentences, TextSearchStore) and isinstance(chunks, TextSearchStore)
            else None
        )
        # What features read of each sentence, computed on first use (thread-safe, bounded).
        self._row_tokens = lru_cache(maxsize=200_000)(self._tokens_of)

    def retrieve(self, question: str, allowed: NDArray[np.bool_] | None = None) -> list[Candidate]:
        """Candidate sentences for `question`, best first."""
        return self.retrieve_detailed(question, allowed)[0]

    def retrieve_detailed(
        self, question: str, allowed: NDArray[np.bool_] | None = None
    ) -> tuple[list[Candidate], dict[str, float]]:
        """Candidate sentences for `question`, best first, and the question's own features;
        with `allowed` (a mask over sentence rows, see qa.answer.filters), only from those rows."""
        index = self.index
        if index.sentence_count == 0:
            return [], {"unknown": 1.0}
        q = self.embedder.encode([question])[0]
        word = focus_word(question)
        # One tokenizer call for the question and its focus word.
        tokenized = tokenize([question, word] if word else [question])
        q_tokens = tokenized[0]
        focus = tokenized[1][0] if len(tokenized) > 1 and tokenized[1] else None
        values = question_values(index.lexical.doc_freq, q_tokens)
        bm25 = index.lexical.scores(q_tokens)
        chunk_bm25 = index.chunk_lexical.scores(q_tokens)
        if allowed is None:
            rows = self._candidate_rows(question, q, bm25, chunk_bm25)
        else:
            rows = self._allowed_rows(allowed, q, bm25, chunk_bm25)
        if not rows:
            return [], values
        batch = Batch(index, question, q, q_tokens, focus, rows, bm25, chunk_bm25, self._row_tokens)
        matrix = relative(feature_matrix(batch))
        logits = self.ranker.logits(matrix[:, self._columns])
        scores = logits.tolist()
        order = sorted(range(len(rows)), key=lambda i: (-scores[i], rows[i]))
        table = matrix.tolist()  # one conversion, not one per candidate
        candidates = [Candidate(rows[i], tuple(table[i]), scores[i]) for i in order]
        if self.stage is not None:
            candidates, read = self.stage.rerank(index, question, candidates)
            values = {**values, **read}
        return candidates, values

    def _candidate_rows(
        self,
        question: str,
        q: NDArray[np.float32],
        bm25: NDArray[np.float32],
        chunk_bm25: NDArray[np.float32],
    ) -> list[int]:
        """Sentences from dense and lexical search over sentences, and all sentences of the
        chunks found the same way. A store with its own full-text search (Milvus) does the
        lexical part itself; otherwise it is the local BM25."""
        index = self.index
        n = self.candidates
        k_chunks = max(1, n // 3)
        rows: set[int] = set()
        chunks: set[int] = set()
        if self._text_search is not None:
            text_sentences, text_chunks = self._text_search
            rows.update(text_sentences.candidates(q, question, n))
            chunks.update(text_chunks.candidates(q, question, k_chunks))
        else:
            _, hits = index.sentence_store.search(q[None, :], n)
            rows.update(int(r) for r in hits[0] if r >= 0)
            _, chunk_hits = index.chunk_store.search(q[None, :], k_chunks)
            chunks.update(int(c) for c in chunk_hits[0] if c >= 0)
            chunks.update(_top(chunk_bm25, k_chunks))
            rows.update(_top(bm25, n))
        for c in chunks:
            rows.update(range(int(index.chunk_first[c]), int(index.chunk_last[c])))
        return sorted(rows)

    def _allowed_rows(
        self,
        allowed: NDArray[np.bool_],
        q: NDArray[np.float32],
        bm25: NDArray[np.float32],
        chunk_bm25: NDArray[np.float32],
    ) -> list[int]:
        """Like `_candidate_rows`, searching only the `allowed` rows (and the chunks of their
        articles) exactly: a filter may leave too few of them in a search of the whole index."""
        index = self.index
        n = self.candidates
        k_chunks = max(1, n // 3)
        rows_in = np.flatnonzero(allowed)
        if not len(rows_in):
            return []
        chunks_in = np.flatnonzero(allowed[index.chunk_first])
        rows: set[int] = set()
        rows.update(
            int(rows_in[i]) for i in _top_all(dot_rows(index.sentence_vectors, rows_in, q), n)
        )
        rows.update(int(rows_in[i]) for i in _top(bm25[rows_in], n))
        chunk_dense = dot_rows(index.chunk_vectors, chunks_in, q)
        chunks = {int(chunks_in[i]) for i in _top_all(chunk_dense, k_chunks)}
        chunks.update(int(chunks_in[i]) for i in _top(chunk_bm25[chunks_in], k_chunks))
        for c in chunks:
            rows.update(range(int(index.chunk_first[c]), int(index.chunk_last[c])))
        return sorted(rows)

    def _tokens_of(self, row: int) -> RowTokens:
        text = self.index.sentence_text(row)
        return RowTokens.of(text, tokenize([text])[0])


DOT_BLOCK = 8192


def dot_rows(
    vectors: NDArray[np.float32], rows: NDArray[np.intp], q: NDArray[np.float32]
) -> NDArray[np.float32]:
    """`vectors[rows] @ q` without copying all the selected vectors at once (a broad filter on
    1M rows of 384 floats would copy 1.5 GB): most rows, one product over all rows, then the
    selection; fewer, DOT_BLOCK rows at a time."""
    if len(rows) > len(vectors) // 4:
        return np.asarray(vectors @ q, dtype=np.float32)[rows]
    out = np.empty(len(rows), dtype=np.float32)
    for start in range(0, len(rows), DOT_BLOCK):
        part = rows[start : start + DOT_BLOCK]
        out[start : start + len(part)] = vectors[part] @ q
    return out


def _top_all(scores: NDArray[np.float32], n: int) -> list[int]:
    """Positions of the `n` highest scores, whatever their sign (dense similarities)."""
    if not len(scores):
        return []
    n = min(n, len(scores))
    return [int(r) for r in np.argpartition(-scores, n - 1)[:n]]


def _top(scores: NDArray[np.float32], n: int) -> list[int]:
    """Positions of the `n` highest positive scores."""
    if not len(scores) or not scores.any():
        return []
    n = min(n, len(scores))
    top = np.argpartition(-scores, n - 1)[:n]
    return [int(r) for r in top if scores[r] > 0]
