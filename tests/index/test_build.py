"""Building an Index: vectors reused from a previous build when made the same way, vectors
embedded beforehand taken as they are, and a manifest that records how it was all made."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

import numpy as np
import pytest

from qa.corpus.documents import Document, read_corpus
from qa.embed.model import ModelInfo
from qa.index.build import build, embed_articles, reusable
from qa.index.chunking import Chunking
from qa.index.embed_corpus import article_texts
from qa.index.model import Index
from tests.conftest import FakeEmbedder

CHUNKING = Chunking(2, 1)


@pytest.fixture
def documents(seeds_dir: Path) -> list[Document]:
    found, problems = read_corpus(seeds_dir)
    assert not problems and len(found) == 2
    return found


def rows_of(index: Index, doc_id: str) -> tuple[np.ndarray, np.ndarray]:
    pos = [d.doc_id for d in index.documents].index(doc_id)
    rows = slice(int(index.doc_first_row[pos]), int(index.doc_first_row[pos + 1]))
    return index.sentence_vectors[rows], index.chunk_vectors[index.chunk_doc == pos]


def test_reusable_gives_each_articles_own_rows(documents: list[Document]) -> None:
    index = build(documents, FakeEmbedder(), CHUNKING)
    reuse = reusable(index, FakeEmbedder().fingerprint, CHUNKING)
    assert set(reuse) == {d.doc_id for d in documents}
    for doc_id, (_key, sentences, chunks) in reuse.items():
        expected_sentences, expected_chunks = rows_of(index, doc_id)
        assert np.array_equal(sentences, expected_sentences)
        assert np.array_equal(chunks, expected_chunks)
    only = reusable(index, FakeEmbedder().fingerprint, CHUNKING, only={"quad"})
    assert set(only) == {"quad"}


@pytest.mark.parametrize(
    ("model", "chunking"),
    [
        (ModelInfo("other", "other", "e" * 64, 16), CHUNKING),
        (FakeEmbedder().fingerprint, Chunking(3, 1)),
    ],
)
def test_nothing_is_reusable_from_an_index_made_another_way(
    documents: list[Document], model: ModelInfo, chunking: Chunking
) -> None:
    index = build(documents, FakeEmbedder(), CHUNKING)
    assert reusable(index, model, chunking) == {}
    assert reusable(None, model, chunking) == {}


def test_a_rebuild_embeds_only_what_changed_and_matches_a_clean_build(
    documents: list[Document], seeds_dir: Path
) -> None:
    previous = build(documents, FakeEmbedder(), CHUNKING)
    counting = FakeEmbedder()
    index = build(documents, counting, CHUNKING, previous=previous)
    assert counting.texts == 0 and index.manifest.counts.embedded == 0
    with (seeds_dir / "chips.md").open("a") as handle:
        handle.write("A second plant follows in 2027.\n")
    edited, _ = read_corpus(seeds_dir)
    chips = next(d for d in edited if d.doc_id == "chips")
    counting = FakeEmbedder()
    index = build(edited, counting, CHUNKING, previous=previous)
    assert counting.texts == sum(len(part) for part in article_texts(chips, CHUNKING))
    clean = build(edited, FakeEmbedder(), CHUNKING)
    assert np.array_equal(index.sentence_vectors, clean.sentence_vectors)
    assert np.array_equal(index.chunk_vectors, clean.chunk_vectors)


def test_vectors_embedded_beforehand_are_used_as_they_are(documents: list[Document]) -> None:
    fresh = embed_articles(documents, FakeEmbedder(), CHUNKING, previous=None)
    marked = {
        doc_id: (key, sentences + 1.0, chunks + 1.0)
        for doc_id, (key, sentences, chunks) in fresh.items()
    }
    clean = build(documents, FakeEmbedder(), CHUNKING)
    counting = FakeEmbedder()
    index = build(documents, counting, CHUNKING, previous=clean, fresh=marked)  # fresh wins
    assert counting.texts == 0
    assert np.array_equal(index.sentence_vectors, clean.sentence_vectors + 1.0)
    for doc in documents:
        sentences, chunks = rows_of(clean, doc.doc_id)
        assert np.array_equal(fresh[doc.doc_id][1], sentences)
        assert np.array_equal(fresh[doc.doc_id][2], chunks)


def test_embed_articles_takes_what_the_previous_index_holds(documents: list[Document]) -> None:
    previous = build(documents, FakeEmbedder(), CHUNKING)
    counting = FakeEmbedder()
    embed_articles(documents, counting, CHUNKING, previous)
    assert counting.texts == 0


def test_the_manifest_records_how_the_index_was_made(documents: list[Document]) -> None:
    model = replace(FakeEmbedder().fingerprint, encoder="onnx-int8")

    class Exported(FakeEmbedder):
        fingerprint = model  # type: ignore[assignment]

    index = build(
        documents,
        Exported(),
        CHUNKING,
        sources={"quad.txt": "a" * 64},
        skipped=("broken.txt",),
    )
    m = index.manifest
    assert m.articles == {d.doc_id: d.sha256 for d in documents}
    assert (m.sources, m.skipped, m.chunking) == ({"quad.txt": "a" * 64}, ("broken.txt",), CHUNKING)
    assert (m.model.name, m.model.encoder, m.model.dimension) == ("fake", "onnx-int8", 16)
    assert m.model.source_weights_sha256 == m.model.weights_sha256 == "f" * 64
    sentences = sum(len(d.sentences) for d in documents)
    chunks = sum(len(CHUNKING.bounds(len(d.sentences))) for d in documents)
    assert (m.counts.articles, m.counts.sentences, m.counts.chunks) == (2, sentences, chunks)
    assert m.counts.embedded == sentences + chunks
    assert m.libraries["numpy"] == np.__version__ and m.libraries["torch"]
    assert m.store["backend"] == "faiss"
