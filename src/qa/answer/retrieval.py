"""Find and score the sentences that may answer a question.

Candidates come from four searches: dense and BM25 over sentences, dense and BM25 over chunks
(so a sentence that only makes sense with its neighbours is still found by their words). Each
candidate then gets a row of features, and the `Ranker` turns them into one score.
"""

from __future__ import annotations

import itertools
import math
from dataclasses import dataclass
from functools import lru_cache
from typing import TYPE_CHECKING

import numpy as np

from qa.answer.cues import AnswerType, answer_type, capitalised, figures, focus_word, has_answer_of
from qa.index.lexical import tokenize
from qa.index.stores.base import TextSearchStore

if TYPE_CHECKING:
    from numpy.typing import NDArray

    from qa.answer.ranker import Ranker
    from qa.embed.model import Embedder
    from qa.index.model import Index

FEATURES = (
    "dense",  # cosine of question and sentence
    "chunk_dense",  # best cosine of question and a chunk holding the sentence
    "doc_dense",  # cosine of question and the sentence's article (mean of its sentences)
    "para_dense",  # cosine of question and the sentence's paragraph (mean of its sentences)
    "bm25",  # BM25 of the sentence, over the best score the question could reach
    "window_bm25",  # best of that over the sentence and its neighbours
    "chunk_bm25",  # best BM25 of a chunk holding the sentence, normalised the same way
    "coverage",  # IDF-weighted share of question terms in the sentence
    "window_coverage",  # ... in the sentence and its neighbours together
    "prev_coverage",  # coverage by the previous sentence alone (answers often follow the cue)
    "next_coverage",  # coverage by the next sentence alone
    "bigram",  # share of the question's adjacent term pairs found together in the window
    "novelty",  # share of the sentence's terms the question does not use (an answer adds some)
    "best_coverage",  # the best coverage of any candidate: how much of the question is known
    "has_type",  # the question asks for a person, date, number or place
    "type_match",  # ... and the sentence holds one the question does not already name
    "window_type_match",  # ... or its neighbours do
    "lead",  # 1 for an article's first sentence, falling with position
    "length",  # log of the sentence's length in tokens
    "focus",  # the sentence has the word a "what/which/how many X" question asks about
    "window_focus",  # ... or its neighbours do
    "names",  # share of the question's capitalised words found as such in the sentence
    "new_names",  # capitalised words the question does not use, per sentence token
    "proximity",  # distinct question terms matched over the token span that holds them
    "figures",  # share of the question's numbers the sentence repeats
    "prev_dense",  # cosine of question and the previous sentence
    "next_dense",  # ... and the next one
    "window_dense",  # best cosine over the sentence and its neighbours
    "window_dense_mean",  # mean cosine over them
)
# Features of the question against the whole corpus, the same for every candidate: they feed the
# confidence model, not the ranker (a constant within a question cannot reorder candidates).
QUESTION_FEATURES = (
    "unknown",  # share of the question's distinct terms that no article uses
)
# Each feature is also seen relative to the other candidates of the same question: its gap to
# the best value, and a reciprocal rank (as in reciprocal-rank fusion).
RANK_OFFSET = 5
ALL_FEATURES = FEATURES + tuple(f"gap:{f}" for f in FEATURES) + tuple(f"rank:{f}" for f in FEATURES)


@dataclass(frozen=True, slots=True)
class Candidate:
    """A sentence (global row in the index), its features and the ranker's logit."""

    row: int
    features: tuple[float, ...]
    score: float

    def feature(self, name: str) -> float:
        return self.features[ALL_FEATURES.index(name)]


class Retriever:
    """Hybrid retrieval over an `Index`, scored by a `Ranker`."""

    def __init__(
        self, index: Index, embedder: Embedder, ranker: Ranker, candidates: int = 30
    ) -> None:
        missing = set(ranker.features) - set(ALL_FEATURES)
        if missing:
            raise ValueError(f"ranker {ranker.source} uses unknown features {sorted(missing)}")
        self.index = index
        self.embedder = embedder
        self.ranker = ranker
        self.candidates = candidates
        self._columns = [ALL_FEATURES.index(f) for f in ranker.features]
        # Sentence tokens for coverage, computed on first use (thread-safe, bounded).
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
        q_tokens = tokenize([question])[0]
        distinct = set(q_tokens)
        known = index.lexical.doc_freq
        question_values = {
            "unknown": sum(t not in known for t in distinct) / len(distinct) if distinct else 0.0
        }
        bm25 = index.lexical.scores(q_tokens)
        chunk_bm25 = index.chunk_lexical.scores(q_tokens)
        if allowed is None:
            rows = self._candidate_rows(question, q, bm25, chunk_bm25)
        else:
            rows = self._allowed_rows(allowed, q, bm25, chunk_bm25)
        if not rows:
            return [], question_values
        matrix = relative(self._features(question, rows, q, q_tokens, bm25, chunk_bm25))
        logits = self.ranker.logits(matrix[:, self._columns])
        order = sorted(range(len(rows)), key=lambda i: (-logits[i], rows[i]))
        candidates = [
            Candidate(rows[i], tuple(matrix[i].tolist()), float(logits[i])) for i in order
        ]
        return candidates, question_values

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
        sentences, chunk_store = index.sentence_store, index.chunk_store
        rows: set[int] = set()
        chunks: set[int] = set()
        if isinstance(sentences, TextSearchStore) and isinstance(chunk_store, TextSearchStore):
            rows.update(sentences.candidates(q, question, n))
            chunks.update(chunk_store.candidates(q, question, k_chunks))
        else:
            _, hits = sentences.search(q[None, :], n)
            rows.update(int(r) for r in hits[0] if r >= 0)
            _, chunk_hits = chunk_store.search(q[None, :], k_chunks)
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

    def _tokens_of(self, row: int) -> tuple[str, ...]:
        return tuple(tokenize([self.index.sentence_text(row)])[0])

    def _neighbours(self, row: int) -> list[int]:
        doc = int(self.index.sentence_doc[row])
        first = int(self.index.doc_first_row[doc])
        last = int(self.index.doc_first_row[doc + 1])
        return list(range(max(first, row - 1), min(last, row + 2)))

    def _features(
        self,
        question: str,
        rows: list[int],
        q: NDArray[np.float32],
        q_tokens: list[str],
        bm25: NDArray[np.float32],
        chunk_bm25: NDArray[np.float32],
    ) -> NDArray[np.float64]:
        index = self.index
        lexical = index.lexical
        kind = answer_type(question)
        dense = index.sentence_vectors[rows] @ q
        doc_dense = index.doc_vectors[index.sentence_doc[rows]] @ q
        para_dense = index.para_vectors[index.sentence_para[rows]] @ q
        q_bigrams = set(itertools.pairwise(q_tokens))
        q_terms = set(q_tokens)
        has_type = kind is not AnswerType.NONE
        focus_tokens = tokenize([word])[0] if (word := focus_word(question)) else []
        focus = focus_tokens[0] if focus_tokens else None
        words = question.split()
        q_names = set(capitalised(question)) - {words[0].strip("?") if words else ""}
        q_figures = figures(question)
        cover = lexical.coverage_of(q_tokens)
        out = np.zeros((len(rows), len(FEATURES)), dtype=np.float64)
        for i, row in enumerate(rows):
            window = self._neighbours(row)
            window_lists = [self._row_tokens(r) for r in window]
            token_list = self._row_tokens(row)
            tokens = frozenset(token_list)
            window_tokens = frozenset(t for toks in window_lists for t in toks)
            chunks = index.sentence_chunks[row]
            local = int(index.sentence_local[row])
            text = index.sentence_text(row)
            prev_tokens = frozenset(window_lists[0]) if window[0] < row else frozenset()
            next_tokens = frozenset(window_lists[-1]) if window[-1] > row else frozenset()
            window_text = index.window_text(window[0], window[-1])
            type_match = has_type and has_answer_of(kind, text, question)
            window_dense = index.sentence_vectors[window] @ q
            names = capitalised(text)
            out[i] = (
                dense[i],
                float(np.max(index.chunk_vectors[chunks] @ q)),
                doc_dense[i],
                para_dense[i],
                bm25[row],
                max(bm25[r] for r in window),
                max(chunk_bm25[c] for c in chunks),
                cover(tokens),
                cover(window_tokens),
                cover(prev_tokens) if prev_tokens else 0.0,
                cover(next_tokens) if next_tokens else 0.0,
                _bigram_share(q_bigrams, window_lists),
                len(tokens - q_terms) / max(1, len(tokens)),
                0.0,  # best_coverage, filled below
                float(has_type),
                float(type_match),
                float(type_match or (has_type and has_answer_of(kind, window_text, question))),
                1.0 / (1.0 + local),
                math.log1p(len(tokens)),
                float(focus is not None and focus in tokens),
                float(focus is not None and focus in window_tokens),
                _share(q_names, set(names)),
                sum(n not in q_names and n not in question for n in names) / (1 + len(tokens)),
                _proximity(token_list, q_terms),
                sum(f in text for f in q_figures) / len(q_figures) if q_figures else 0.0,
                float(window_dense[0]) if window[0] < row else 0.0,
                float(window_dense[-1]) if window[-1] > row else 0.0,
                float(window_dense.max()),
                float(window_dense.mean()),
            )
        if len(rows):
            col = FEATURES.index
            out[:, col("best_coverage")] = out[:, col("coverage")].max()
        return out


def _share(wanted: set[str], found: set[str]) -> float:
    return len(wanted & found) / len(wanted) if wanted else 0.0


def _proximity(tokens: tuple[str, ...], terms: set[str]) -> float:
    """Distinct question terms in `tokens`, over the length of the span from the first to the
    last of them: 1 when they sit together, small when scattered, 0 when absent."""
    at = [j for j, t in enumerate(tokens) if t in terms]
    if not at:
        return 0.0
    return len({tokens[j] for j in at}) / (at[-1] - at[0] + 1)


def _bigram_share(q_bigrams: set[tuple[str, str]], windows: list[tuple[str, ...]]) -> float:
    if not q_bigrams:
        return 0.0
    toks = [t for toks in windows for t in toks]
    return len(q_bigrams & set(itertools.pairwise(toks))) / len(q_bigrams)


def relative(matrix: NDArray[np.float64]) -> NDArray[np.float64]:
    """Append each feature's gap to the best candidate and its reciprocal rank."""
    if not len(matrix):
        return np.zeros((0, len(ALL_FEATURES)))
    gaps = matrix - matrix.max(axis=0)
    ranks = np.argsort(np.argsort(-matrix, axis=0, kind="stable"), axis=0, kind="stable")
    return np.hstack([matrix, gaps, 1.0 / (RANK_OFFSET + ranks)])


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
