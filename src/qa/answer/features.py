"""Ranking features by name: each declared once, with its family and how it is computed.

A feature is a function of a `qa.answer.batch.Batch` (one question and its candidates) that
returns one value per candidate, computed over all candidates at once. What several features
share (each candidate's window of neighbours, similarities, which question terms each sentence
holds) is a cached property of the batch, computed on first use and once. The ranker and the
confidence model name the features they read (src/qa/answer/ranker.json); retrieval, training,
calibration and ablations take the names from here. Adding a feature is one entry in `FEATURES` plus
retraining (`qa train-ranker`).
"""

from __future__ import annotations

import itertools
import math
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
from numpy.typing import NDArray

from qa.answer.batch import Batch, Values
from qa.answer.cues import AnswerType, figures, has_answer, question_words


@dataclass(frozen=True, slots=True)
class Feature:
    """One ranking feature: its name, its ablation family, and how it is computed."""

    name: str
    family: str
    compute: Callable[[Batch], Values]
    doc: str


# --------------------------------------------------------------------------- feature functions
def _as_values(x: NDArray[np.generic] | list[float] | list[bool]) -> Values:
    return np.asarray(x, dtype=np.float64)


def _chunk_bm25(b: Batch) -> Values:
    ids, valid = b.chunks
    return _as_values(np.where(valid, b.chunk_bm25[ids], -np.inf).max(axis=1))


def _side_coverage(b: Batch, side: int) -> Values:
    has = b.has_prev if side < 0 else b.has_next
    return np.where(has, b.near_coverage[b.at[1 if side < 0 else 2]], 0.0)


def _window_coverage(b: Batch) -> Values:
    terms = len(b.terms[0])
    return b.cover(b.window_any(b.holds[:, :terms]))


def _bigram(b: Batch) -> Values:
    """Share of the question's adjacent term pairs found together in the window's tokens, read
    as one run (so a pair may straddle two sentences): the pairs inside each sentence, found
    once per sentence, and the pairs across each boundary of the window."""
    wanted = set(itertools.pairwise(b.q_tokens))
    if not wanted:
        return np.zeros(b.n)
    lists = [row.tokens for row in b.near_tokens]
    inner = [wanted.intersection(itertools.pairwise(tokens)) for tokens in lists]
    out = []
    for row, prev, next_ in zip(*(a.tolist() for a in b.at), strict=True):
        # A missing neighbour is the row itself (see Batch.at); sentences without tokens are
        # skipped, as they add nothing to the run.
        window = [j for j in dict.fromkeys((prev, row, next_)) if lists[j]]
        found = set().union(*(inner[j] for j in window))
        for j, k in itertools.pairwise(window):
            if (pair := (lists[j][-1], lists[k][0])) in wanted:
                found.add(pair)
        out.append(len(found) / len(wanted))
    return _as_values(out)


def _novelty(b: Batch) -> Values:
    terms = len(b.terms[0])
    held = b.holds[b.at[0], :terms].sum(axis=1)
    return _as_values((b.distinct_counts - held) / np.maximum(1, b.distinct_counts))


def _window_type_match(b: Batch) -> Values:
    if b.kind is AnswerType.NONE:
        return np.zeros(b.n)
    words = question_words(b.question)
    start = (b.rows - b.has_prev).tolist()
    end = (b.rows + b.has_next).tolist()
    found = [
        matched or has_answer(b.kind, b.index.window_text(s, e), words)
        for matched, s, e in zip(b.type_match.tolist(), start, end, strict=True)
    ]
    return _as_values(found)


def _focus(b: Batch, window: bool) -> Values:
    if b.focus is None:
        return np.zeros(b.n)
    column = b.holds[:, -1]
    return _as_values(b.window_any(column) if window else column[b.at[0]])


def _names(b: Batch) -> Values:
    wanted = b.question_names
    if not wanted:
        return np.zeros(b.n)
    return _as_values([len(wanted & set(found)) / len(wanted) for found in b.names])


def _new_names(b: Batch) -> Values:
    known, question = b.question_names, b.question
    new = [len([n for n in found if n not in known and n not in question]) for found in b.names]
    return np.asarray(new, dtype=np.float64) / (1 + b.distinct_counts)


def _proximity(b: Batch) -> Values:
    """Distinct question terms in the sentence, over the length of the span from the first to
    the last of them: 1 when they sit together, small when scattered, 0 when absent."""
    terms = set(b.q_tokens)
    out = []
    for j in b.at[0].tolist():
        tokens = b.near_tokens[j].tokens
        at = [k for k, t in enumerate(tokens) if t in terms]
        out.append(len({tokens[k] for k in at}) / (at[-1] - at[0] + 1) if at else 0.0)
    return _as_values(out)


def _figures(b: Batch) -> Values:
    wanted = figures(b.question)
    if not wanted:
        return np.zeros(b.n)
    return _as_values([sum(f in t for f in wanted) / len(wanted) for t in b.texts])


def _window_dense_mean(b: Batch) -> Values:
    sims, length = b.window_dense
    # Summed left to right in float32 and divided in float32, as numpy's mean of one window.
    total = sims[:, 0] + sims[:, 1] + sims[:, 2]  # padding is 0.0
    return (total / length.astype(np.float32)).astype(np.float64)


def _window_dense_max(b: Batch) -> Values:
    sims, length = b.window_dense
    padded = np.where(np.arange(3) < length[:, None], sims, -np.inf)
    return _as_values(padded.max(axis=1))


def _side_dense(b: Batch, side: int) -> Values:
    sims, length = b.window_dense
    if side < 0:
        return np.where(b.has_prev, sims[:, 0], 0.0).astype(np.float64)
    return np.where(b.has_next, sims[np.arange(b.n), length - 1], 0.0).astype(np.float64)


DENSE = "dense"
NEIGHBOUR_DENSE = "neighbour dense"
BM25 = "bm25"
COVERAGE = "coverage"
ANSWER_TYPE = "answer type"
CUES = "focus, names, figures, proximity"
POSITION = "position and length"
# Ablation families, in the order `qa train-ranker --ablation` reports them.
FAMILY_ORDER = (DENSE, NEIGHBOUR_DENSE, BM25, COVERAGE, ANSWER_TYPE, CUES, POSITION)

FEATURES: tuple[Feature, ...] = (
    Feature(
        "dense",
        DENSE,
        lambda b: (b.sentence_vectors[b.rows] @ b.q).astype(np.float64),
        "cosine of question and sentence",
    ),
    Feature("chunk_dense", DENSE, Batch.chunk_dense, "best cosine of a chunk holding it"),
    Feature(
        "doc_dense",
        DENSE,
        lambda b: (b.index.doc_vectors[b.index.sentence_doc[b.rows]] @ b.q).astype(np.float64),
        "cosine of question and the sentence's article (mean of its sentences)",
    ),
    Feature(
        "para_dense",
        DENSE,
        lambda b: (b.index.para_vectors[b.index.sentence_para[b.rows]] @ b.q).astype(np.float64),
        "cosine of question and the sentence's paragraph (mean of its sentences)",
    ),
    Feature(
        "bm25",
        BM25,
        lambda b: b.bm25[b.rows].astype(np.float64),
        "BM25 of the sentence, over the best score the question could reach",
    ),
    Feature(
        "window_bm25",
        BM25,
        lambda b: b.window_max(b.bm25[b.near]),
        "best of that over the sentence and its neighbours",
    ),
    Feature("chunk_bm25", BM25, _chunk_bm25, "best BM25 of a chunk holding the sentence"),
    Feature("coverage", COVERAGE, lambda b: b.coverage, "IDF-weighted share of question terms"),
    Feature("window_coverage", COVERAGE, _window_coverage, "... in the window together"),
    Feature(
        "prev_coverage",
        COVERAGE,
        lambda b: _side_coverage(b, -1),
        "coverage by the previous sentence alone (answers often follow the cue)",
    ),
    Feature("next_coverage", COVERAGE, lambda b: _side_coverage(b, 1), "... by the next one alone"),
    Feature("bigram", COVERAGE, _bigram, "share of the question's term pairs in the window"),
    Feature(
        "novelty",
        COVERAGE,
        _novelty,
        "share of the sentence's terms the question does not use (an answer adds some)",
    ),
    Feature(
        "best_coverage",
        COVERAGE,
        lambda b: np.full(b.n, b.coverage.max() if b.n else 0.0),
        "the best coverage of any candidate: how much of the question is known",
    ),
    Feature(
        "has_type",
        ANSWER_TYPE,
        lambda b: np.full(b.n, float(b.kind is not AnswerType.NONE)),
        "the question asks for a person, date, number or place",
    ),
    Feature(
        "type_match",
        ANSWER_TYPE,
        lambda b: _as_values(b.type_match),
        "... and the sentence holds one the question does not already name",
    ),
    Feature("window_type_match", ANSWER_TYPE, _window_type_match, "... or its neighbours do"),
    Feature(
        "lead",
        POSITION,
        lambda b: 1.0 / (1.0 + b.index.sentence_local[b.rows].astype(np.float64)),
        "1 for an article's first sentence, falling with position",
    ),
    Feature(
        "length",
        POSITION,
        # math.log1p, not np.log1p: they differ in the last bit for some counts.
        lambda b: _as_values([math.log1p(c) for c in b.distinct_counts.tolist()]),
        "log of the sentence's length in distinct tokens",
    ),
    Feature(
        "focus",
        CUES,
        lambda b: _focus(b, window=False),
        'the sentence has the word a "what/which/how many X" question asks about',
    ),
    Feature("window_focus", CUES, lambda b: _focus(b, window=True), "... or its neighbours do"),
    Feature("names", CUES, _names, "share of the question's capitalised words in the sentence"),
    Feature(
        "new_names",
        CUES,
        _new_names,
        "capitalised words the question does not use, per sentence token",
    ),
    Feature("proximity", CUES, _proximity, "question terms matched over the span holding them"),
    Feature("figures", CUES, _figures, "share of the question's numbers the sentence repeats"),
    Feature(
        "prev_dense",
        NEIGHBOUR_DENSE,
        lambda b: _side_dense(b, -1),
        "cosine of question and the previous sentence",
    ),
    Feature("next_dense", NEIGHBOUR_DENSE, lambda b: _side_dense(b, 1), "... and the next one"),
    Feature("window_dense", NEIGHBOUR_DENSE, _window_dense_max, "best cosine over the window"),
    Feature("window_dense_mean", NEIGHBOUR_DENSE, _window_dense_mean, "mean cosine over it"),
)
NAMES = tuple(f.name for f in FEATURES)
# Each feature is also seen relative to the other candidates of the same question: its gap to
# the best value, and a reciprocal rank (as in reciprocal-rank fusion).
RANK_OFFSET = 5
ALL_FEATURES = NAMES + tuple(f"gap:{f}" for f in NAMES) + tuple(f"rank:{f}" for f in NAMES)
# Features of the question against the whole corpus, the same for every candidate: they feed the
# confidence model, not the ranker (a constant within a question cannot reorder candidates).
QUESTION_FEATURES = (
    "unknown",  # share of the question's distinct terms that no article uses
)
FAMILIES: dict[str, tuple[str, ...]] = {
    family: tuple(f.name for f in FEATURES if f.family == family) for family in FAMILY_ORDER
}


def feature_matrix(batch: Batch) -> Values:
    """Every feature of every candidate: one row per candidate, columns in `NAMES` order."""
    out = np.zeros((batch.n, len(FEATURES)), dtype=np.float64)
    if batch.n:
        for j, feature in enumerate(FEATURES):
            out[:, j] = feature.compute(batch)
    return out


def relative(matrix: Values) -> Values:
    """Append each feature's gap to the best candidate and its reciprocal rank (columns in
    `ALL_FEATURES` order)."""
    if not len(matrix):
        return np.zeros((0, len(ALL_FEATURES)))
    gaps = matrix - matrix.max(axis=0)
    # Each candidate's place in a stable sort of each column, best first.
    order = np.argsort(-matrix, axis=0, kind="stable")
    ranks = np.empty_like(order)
    np.put_along_axis(ranks, order, np.arange(len(matrix))[:, None], axis=0)
    return np.hstack([matrix, gaps, 1.0 / (RANK_OFFSET + ranks)])


def question_values(known: dict[str, int], tokens: list[str]) -> dict[str, float]:
    """The `QUESTION_FEATURES` of a question (`known`: document frequency of each term)."""
    distinct = set(tokens)
    return {"unknown": sum(t not in known for t in distinct) / len(distinct) if distinct else 0.0}
