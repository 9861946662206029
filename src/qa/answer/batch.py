"""One question and its candidate sentences, with what several ranking features share.

Each candidate's window of neighbours, similarities, which question terms each sentence holds:
computed over all candidates at once, on first use, and once per question (see
`qa.answer.features`, which declares the features themselves).
"""

from __future__ import annotations

import itertools
from collections.abc import Callable, Sequence
from functools import cached_property
from typing import TYPE_CHECKING, NamedTuple

import numpy as np
from numpy.typing import NDArray

from qa.answer.cues import AnswerType, answer_type, capitalised, has_answer, question_words

if TYPE_CHECKING:
    from qa.index.model import Index

Values = NDArray[np.float64]


class RowTokens(NamedTuple):
    """What features read of one sentence whatever the question (see `Retriever`, which caches
    it per row): its stemmed tokens, in order and as a set, and its capitalised words."""

    tokens: tuple[str, ...]
    distinct: frozenset[str]
    names: tuple[str, ...]

    @classmethod
    def of(cls, text: str, tokens: Sequence[str]) -> RowTokens:
        """The facts of sentence `text`, stemmed to `tokens` (`qa.index.lexical.tokenize`)."""
        ordered = tuple(tokens)
        return cls(ordered, frozenset(ordered), tuple(capitalised(text)))


class Batch:
    """One question and its candidate sentence rows, with what several features share."""

    def __init__(
        self,
        index: Index,
        question: str,
        vector: NDArray[np.float32],
        tokens: list[str],
        focus: str | None,
        rows: list[int],
        bm25: NDArray[np.float32],
        chunk_bm25: NDArray[np.float32],
        row_tokens: Callable[[int], RowTokens],
    ) -> None:
        self.index = index
        self.question = question
        self.q = vector
        self.q_tokens = tokens
        self.focus = focus  # the stemmed token of the word a "which X" question asks about
        self.rows = np.asarray(rows, dtype=np.intp)
        self.bm25 = bm25
        self.chunk_bm25 = chunk_bm25
        self._row_tokens = row_tokens
        self.n = len(rows)
        # Plain views of the (often memory-mapped) vectors: indexing a memmap is slower.
        self.sentence_vectors = np.asarray(index.sentence_vectors)
        self.chunk_vectors = np.asarray(index.chunk_vectors)

    # ------------------------------------------------------------------ windows of neighbours
    @cached_property
    def has_prev(self) -> NDArray[np.bool_]:
        return np.asarray(self.index.sentence_local[self.rows] > 0)

    @cached_property
    def has_next(self) -> NDArray[np.bool_]:
        doc_end = self.index.doc_first_row[self.index.sentence_doc[self.rows] + 1]
        return np.asarray(self.rows + 1 < doc_end)

    @cached_property
    def near(self) -> NDArray[np.intp]:
        """Every row a feature reads: the candidates and their neighbours, sorted."""
        prev, next_ = self.rows[self.has_prev] - 1, self.rows[self.has_next] + 1
        return np.unique(np.concatenate([self.rows, prev, next_]))

    @cached_property
    def at(self) -> tuple[NDArray[np.intp], NDArray[np.intp], NDArray[np.intp]]:
        """Positions in `near` of each candidate, its previous and its next sentence. Where a
        neighbour is missing (the article starts or ends) it is the candidate itself, which
        changes no maximum and no "anywhere in the window"; features of the neighbour alone
        check `has_prev` / `has_next`."""
        row = np.searchsorted(self.near, self.rows)
        prev = np.where(self.has_prev, np.searchsorted(self.near, self.rows - 1), row)
        next_ = np.where(self.has_next, np.searchsorted(self.near, self.rows + 1), row)
        return row, prev, next_

    def window_max(self, near_values: NDArray[np.floating]) -> Values:
        """The best of a per-`near`-row value over each candidate's window."""
        row, prev, next_ = self.at
        values = np.asarray(near_values, dtype=np.float64)
        return np.maximum(np.maximum(values[row], values[prev]), values[next_])

    def window_any(self, near_flags: NDArray[np.bool_]) -> NDArray[np.bool_]:
        """A per-`near`-row flag (or flags, one column each) set anywhere in the window."""
        row, prev, next_ = self.at
        return near_flags[row] | near_flags[prev] | near_flags[next_]

    # ------------------------------------------------------------------------- similarities
    @cached_property
    def window_dense(self) -> tuple[NDArray[np.float32], NDArray[np.int64]]:
        """Cosines of the question and each candidate's window [prev, row, next], padded to
        three columns, and each window's length. Windows of one length go through one stacked
        product: one matrix-vector product per window, the same arithmetic as multiplying each
        window alone (a product over all rows at once can differ in the last bit)."""
        start = self.rows - self.has_prev
        length = 1 + self.has_prev.astype(np.int64) + self.has_next.astype(np.int64)
        sims = np.zeros((self.n, 3), dtype=np.float32)
        for size in np.unique(length):
            sel = length == size
            idx = start[sel, None] + np.arange(size)
            sims[sel, :size] = self.sentence_vectors[idx] @ self.q
        return sims, length

    @cached_property
    def chunks(self) -> tuple[NDArray[np.int64], NDArray[np.bool_]]:
        """The chunks holding each candidate, padded, and which entries are real."""
        lists = [self.index.sentence_chunks[r] for r in self.rows.tolist()]
        counts = np.array([len(c) for c in lists], dtype=np.int64)
        valid = np.arange(counts.max(initial=0)) < counts[:, None]
        ids = np.zeros(valid.shape, dtype=np.int64)
        ids[valid] = list(itertools.chain.from_iterable(lists))  # row by row, in order
        return ids, valid

    def chunk_dense(self) -> Values:
        ids, valid = self.chunks
        count = valid.sum(axis=1)
        out = np.zeros(self.n, dtype=np.float64)
        for size in np.unique(count):  # stacked, as in `window_dense`
            sel = count == size
            out[sel] = (self.chunk_vectors[ids[sel, :size]] @ self.q).max(axis=1)
        return out

    # ------------------------------------------------------------------------------- tokens
    @cached_property
    def near_tokens(self) -> list[RowTokens]:
        return [self._row_tokens(r) for r in self.near.tolist()]

    @cached_property
    def terms(self) -> tuple[tuple[str, ...], NDArray[np.float64]]:
        """The question's distinct terms and their IDF weights, in the order coverage sums them
        (`Lexical.coverage_of`'s)."""
        lexical = self.index.lexical
        distinct = tuple(sorted(set(self.q_tokens)))
        return distinct, np.array([lexical.idf(t) for t in distinct], dtype=np.float64)

    @cached_property
    def holds(self) -> NDArray[np.bool_]:
        """Per `near` row, which question terms it holds (columns in `terms` order), then
        whether it holds the focus word (last column)."""
        vocab = (*self.terms[0], self.focus)
        flags = [[t in row.distinct for t in vocab] for row in self.near_tokens]
        return np.array(flags, dtype=bool).reshape(len(self.near), len(vocab))

    @cached_property
    def distinct_counts(self) -> NDArray[np.int64]:
        """Distinct tokens of each candidate's sentence."""
        row = self.at[0]
        return np.array([len(self.near_tokens[j].distinct) for j in row.tolist()], dtype=np.int64)

    def cover(self, holds: NDArray[np.bool_]) -> Values:
        """IDF-weighted share of the question's terms held (rows of `holds`), summed term by
        term in one order so equal sets get equal values."""
        _, weights = self.terms
        total = float(sum(weights.tolist()))
        acc = np.zeros(len(holds), dtype=np.float64)
        if total <= 0:
            return acc
        for k, w in enumerate(weights.tolist()):
            acc = acc + np.where(holds[:, k], w, 0.0)
        return acc / total

    @cached_property
    def near_coverage(self) -> Values:
        return self.cover(self.holds)

    @cached_property
    def coverage(self) -> Values:
        return self.near_coverage[self.at[0]]

    # --------------------------------------------------------------------------------- text
    @cached_property
    def texts(self) -> list[str]:
        return [self.index.sentence_text(r) for r in self.rows.tolist()]

    @cached_property
    def kind(self) -> AnswerType:
        return answer_type(self.question)

    @cached_property
    def type_match(self) -> NDArray[np.bool_]:
        if self.kind is AnswerType.NONE:
            return np.zeros(self.n, dtype=bool)
        words = question_words(self.question)
        return np.array([has_answer(self.kind, t, words) for t in self.texts], dtype=bool)

    @cached_property
    def question_names(self) -> set[str]:
        words = self.question.split()
        return set(capitalised(self.question)) - {words[0].strip("?") if words else ""}

    @cached_property
    def names(self) -> list[tuple[str, ...]]:
        """Capitalised words of each candidate's sentence."""
        return [self.near_tokens[j].names for j in self.at[0].tolist()]
