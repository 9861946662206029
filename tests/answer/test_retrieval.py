"""Candidate choice: the union of dense and BM25 search over sentences and chunks, within an
`allowed` mask, and the neighbours each candidate's window reads."""

from __future__ import annotations

import numpy as np
import pytest

from qa.answer.ranker import Ranker
from qa.answer.retrieval import Retriever, _top, _top_all, dot_rows
from qa.corpus.documents import make_document
from qa.embed.model import ModelInfo
from qa.index.build import build
from qa.index.chunking import Chunking
from qa.index.model import Index

QUESTION = "quartz garnet"  # BM25 finds sentences and chunks with these words ...
DENSE_TOPIC = "zebra"  # ... dense search the sentences whose vector says this


class TopicEmbedder:
    """Four-dimensional vectors: the question points one way, texts mentioning "zebra" nearly
    so (the shorter, the nearer), everything else another way, so dense search and BM25
    disagree on purpose."""

    dim = 4

    @property
    def fingerprint(self) -> ModelInfo:
        return ModelInfo("topic", "topic", "t" * 64, self.dim)

    def encode(
        self, texts: list[str], *, batch_size: int = 64, progress: bool = False
    ) -> np.ndarray:
        out = np.zeros((len(texts), self.dim), dtype=np.float32)
        for i, text in enumerate(texts):
            if text == QUESTION:
                out[i] = (1.0, 0.0, 0.0, 0.0)
            elif DENSE_TOPIC in text:
                out[i] = (1.0, 0.0, 0.0, 0.02 * len(text.split()))
            else:
                out[i] = (0.0, 1.0, 0.1 * (len(text) % 7), 0.0)
        return out / np.linalg.norm(out, axis=1, keepdims=True)


# Six sentences each; chunks of two sentences, no overlap.
A = [
    "A zebra.",  # the best sentence for dense search ...
    "Drivers stopped for it on the busy road near the old market.",  # ... in a long chunk
    "Traffic resumed later.",
    "Police thanked the drivers.",
    "The zebra ran.",  # the best chunk for dense search
    "Done.",
]
B = [
    "Miners dug for gold.",
    "They found copper too.",
    "A vein of quartz and garnet ran deep.",  # the best sentence for BM25 ...
    "Geologists were pleased.",
    "Quartz, quartz and more quartz.",  # ... in a chunk that is not the best chunk
    "Garnet, garnet and more garnet.",
]


@pytest.fixture(scope="module")
def index() -> Index:
    documents = [make_document("a", " ".join(A)), make_document("b", " ".join(B))]
    return build(documents, TopicEmbedder(), Chunking(2, 0))


def retriever(index: Index, candidates: int = 1) -> Retriever:
    ranker = Ranker(("dense",), np.array([1.0]), 0.0)
    return Retriever(index, TopicEmbedder(), ranker, candidates=candidates)


def rows_of(index: Index, doc: str, *locals_: int) -> set[int]:
    first = int(index.doc_first_row[index.doc_pos[doc]])
    return {first + i for i in locals_}


def texts(index: Index, rows: set[int]) -> set[str]:
    return {index.sentence_text(r) for r in rows}


def test_candidates_are_the_union_of_dense_and_bm25_hits_with_their_chunks(index: Index) -> None:
    found = {c.row for c in retriever(index).retrieve(QUESTION)}
    dense_sentence = rows_of(index, "a", 0)
    dense_chunk = rows_of(index, "a", 4, 5)
    lexical_sentence = rows_of(index, "b", 2)
    lexical_chunk = rows_of(index, "b", 4, 5)
    expected = dense_sentence | dense_chunk | lexical_sentence | lexical_chunk
    assert found == expected, texts(index, found)


def test_more_candidates_widen_both_searches(index: Index) -> None:
    one = {c.row for c in retriever(index, 1).retrieve(QUESTION)}
    many = {c.row for c in retriever(index, 9).retrieve(QUESTION)}
    assert one < many
    assert len(many) > len(one) + 2


def test_allowed_rows_are_respected(index: Index) -> None:
    allowed = np.zeros(index.sentence_count, dtype=bool)
    allowed[sorted(rows_of(index, "b", *range(6)))] = True
    found = {c.row for c in retriever(index).retrieve(QUESTION, allowed)}
    assert found, "the lexical hit is in the allowed article"
    assert found <= rows_of(index, "b", *range(6))
    assert rows_of(index, "b", 2) <= found


def test_allowed_search_is_exact_even_when_the_filter_leaves_few_rows(index: Index) -> None:
    allowed = np.zeros(index.sentence_count, dtype=bool)
    allowed[sorted(rows_of(index, "a", 2, 3))] = True
    found = {c.row for c in retriever(index).retrieve(QUESTION, allowed)}
    # Neither search's global best is allowed; the best allowed rows still come back.
    assert found and found <= rows_of(index, "a", 2, 3)


def test_nothing_allowed_means_no_candidates(index: Index) -> None:
    allowed = np.zeros(index.sentence_count, dtype=bool)
    candidates, values = retriever(index).retrieve_detailed(QUESTION, allowed)
    assert candidates == []
    assert set(values) == {"unknown"}


def test_candidates_come_best_first_with_their_logits(index: Index) -> None:
    candidates = retriever(index, 9).retrieve(QUESTION)
    scores = [c.score for c in candidates]
    assert scores == sorted(scores, reverse=True)
    assert index.sentence_text(candidates[0].row) == A[0]  # the ranker reads dense only


def test_question_values_say_how_much_of_the_question_is_unknown(index: Index) -> None:
    _, values = retriever(index).retrieve_detailed("quartz garnet unicorns lemurs")
    assert values == {"unknown": 0.5}


def test_an_empty_index_has_no_candidates_and_knows_nothing() -> None:
    empty = build([], TopicEmbedder(), Chunking(2, 0))
    assert retriever(empty).retrieve_detailed(QUESTION) == ([], {"unknown": 1.0})


def test_top_helpers() -> None:
    scores = np.array([0.0, 3.0, -1.0, 2.0], dtype=np.float32)
    assert sorted(_top(scores, 3)) == [1, 3]  # positive scores only
    assert _top(np.zeros(3, dtype=np.float32), 2) == []
    assert sorted(_top_all(scores, 3)) == [0, 1, 3]  # whatever the sign
    assert _top_all(np.zeros(0, dtype=np.float32), 2) == []


def test_dot_rows_equals_selected_products() -> None:
    rng = np.random.default_rng(0)
    vectors = rng.normal(size=(40, 4)).astype(np.float32)
    q = rng.normal(size=4).astype(np.float32)
    for rows in (np.arange(40), np.array([3, 7, 11])):
        np.testing.assert_allclose(dot_rows(vectors, rows, q), vectors[rows] @ q, rtol=1e-6)
