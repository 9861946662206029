"""What features share: each candidate's window of neighbours within its article, and the
question terms each sentence holds."""

from __future__ import annotations

import numpy as np
import pytest

from qa.answer.batch import Batch, RowTokens
from qa.corpus.documents import make_document
from qa.index.build import build
from qa.index.chunking import Chunking
from qa.index.lexical import tokenize
from qa.index.model import Index
from tests.conftest import FakeEmbedder

ARTICLES = {
    "one": "Alpha opens. Beta follows. Gamma closes.",
    "two": "Delta stands alone.",
    "three": "Epsilon starts. Zeta ends.",
}


@pytest.fixture(scope="module")
def index() -> Index:
    documents = [make_document(d, t) for d, t in ARTICLES.items()]
    return build(documents, FakeEmbedder(), Chunking(2, 1))


def batch(index: Index, rows: list[int], question: str = "alpha beta zeta") -> Batch:
    q = FakeEmbedder().encode([question])[0]
    tokens = tokenize([question])[0]

    def row_tokens(row: int) -> RowTokens:
        text = index.sentence_text(row)
        return RowTokens.of(text, tokenize([text])[0])

    bm25 = index.lexical.scores(tokens)
    chunk_bm25 = index.chunk_lexical.scores(tokens)
    return Batch(index, question, q, tokens, None, rows, bm25, chunk_bm25, row_tokens)


def test_windows_stay_inside_the_article(index: Index) -> None:
    # Rows: one = 0, 1, 2; two = 3; three = 4, 5.
    b = batch(index, [0, 1, 2, 3, 4, 5])
    assert b.has_prev.tolist() == [False, True, True, False, False, True]
    assert b.has_next.tolist() == [True, True, False, False, True, False]
    assert b.window_dense[1].tolist() == [2, 3, 2, 1, 2, 2]


def test_near_rows_are_the_candidates_and_their_neighbours(index: Index) -> None:
    b = batch(index, [1, 3])
    assert b.near.tolist() == [0, 1, 2, 3]  # row 3's article has no other sentence
    row, prev, next_ = b.at
    assert b.near[row].tolist() == [1, 3]
    assert b.near[prev].tolist() == [0, 3] and b.near[next_].tolist() == [2, 3]


def test_window_max_and_any_read_the_neighbours_only_within_the_article(index: Index) -> None:
    b = batch(index, [2, 3, 4])
    values = np.zeros(len(b.near))
    values[b.near.tolist().index(1)] = 5.0  # row 1, before row 2
    values[b.near.tolist().index(5)] = 7.0  # row 5, after row 4
    assert b.window_max(values).tolist() == [5.0, 0.0, 7.0]
    assert b.window_any(values > 6).tolist() == [False, False, True]


def test_window_dense_holds_the_cosines_in_window_order(index: Index) -> None:
    b = batch(index, [1])
    sims, length = b.window_dense
    expected = index.sentence_vectors[[0, 1, 2]].astype(np.float64) @ b.q.astype(np.float64)
    np.testing.assert_allclose(sims[0, : length[0]], expected, atol=1e-6)


def test_holds_marks_the_question_terms_of_each_near_row(index: Index) -> None:
    b = batch(index, [0, 5])
    terms, weights = b.terms
    assert sorted(terms) == sorted(tokenize(["alpha beta zeta"])[0])
    assert len(weights) == len(terms) and (weights > 0).all()
    held = {
        int(b.near[j]): {t for t, h in zip(terms, b.holds[j], strict=False) if h}
        for j in range(len(b.near))
    }
    assert held[0] == {tokenize(["alpha"])[0][0]}
    assert held[1] == {tokenize(["beta"])[0][0]}
    assert held[5] == {tokenize(["zeta"])[0][0]}
    assert held[4] == set()
