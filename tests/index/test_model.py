"""The Index's derived tables: rows per article, chunks per sentence, article and paragraph
vectors, and the text of a sentence or a window, all from the articles as built."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

import numpy as np
import pytest

from qa.corpus.documents import read_corpus
from qa.index.build import build
from qa.index.chunking import Chunking
from qa.index.errors import IndexUnavailable
from qa.index.model import Index
from tests.conftest import FakeEmbedder


@pytest.fixture
def index(tmp_path: Path) -> Index:
    folder = tmp_path / "seeds"
    folder.mkdir()
    (folder / "a.txt").write_text("One. Two. Three.\n\nFour. Five.\n")
    (folder / "b.txt").write_text("Six.\n")
    documents, problems = read_corpus(folder)
    assert not problems and [d.doc_id for d in documents] == ["a", "b"]
    return build(documents, FakeEmbedder(), Chunking(2, 1))


def test_rows_follow_the_articles_in_order(index: Index) -> None:
    assert index.doc_first_row.tolist() == [0, 5, 6]
    assert index.sentence_doc.tolist() == [0, 0, 0, 0, 0, 1]
    assert index.sentence_local.tolist() == [0, 1, 2, 3, 4, 0]
    assert index.sentence_count == 6 and index.doc_pos == {"a": 0, "b": 1}
    assert [index.sentence_text(r) for r in range(6)] == [
        "One.",
        "Two.",
        "Three.",
        "Four.",
        "Five.",
        "Six.",
    ]


def test_chunks_cover_their_articles_sentences_and_never_cross_articles(index: Index) -> None:
    # Two sentences a chunk, one shared: a has chunks 0-2, 1-3, 2-4, 3-5; b has one, 5-6.
    spans = list(zip(index.chunk_first.tolist(), index.chunk_last.tolist(), strict=True))
    assert spans == [(0, 2), (1, 3), (2, 4), (3, 5), (5, 6)]
    assert index.chunk_doc.tolist() == [0, 0, 0, 0, 1]
    assert index.sentence_chunks == [[0], [0, 1], [1, 2], [2, 3], [3], [4]]


def test_window_text_is_the_article_from_first_to_last_sentence(index: Index) -> None:
    assert index.window_text(1, 3) == "Two. Three.\n\nFour."
    doc, span, local = index.span(4)
    assert (doc.doc_id, local, doc.text[span.start : span.end]) == ("a", 4, "Five.")


def test_article_and_paragraph_vectors_are_normalised_means_of_their_sentences(
    index: Index,
) -> None:
    def mean(rows: list[int]) -> np.ndarray:
        total = index.sentence_vectors[rows].sum(axis=0)
        return total / np.linalg.norm(total)

    assert np.allclose(index.doc_vectors, [mean([0, 1, 2, 3, 4]), mean([5])], atol=1e-6)
    assert index.sentence_para.tolist() == [0, 0, 0, 1, 1, 2]
    assert np.allclose(index.para_vectors, [mean([0, 1, 2]), mean([3, 4]), mean([5])], atol=1e-6)


def test_vectors_that_disagree_with_the_tables_are_refused(index: Index) -> None:
    with pytest.raises(IndexUnavailable, match="rebuild the index"):
        replace(index, sentence_vectors=index.sentence_vectors[:-1])
    with pytest.raises(IndexUnavailable, match="rebuild the index"):
        replace(index, chunk_vectors=index.chunk_vectors[:-1])
