"""Save, publish and load: a round trip on a temporary folder, and refusals."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

import pytest

from qa.corpus.documents import META_CHARS, read_corpus
from qa.index.build import build
from qa.index.chunking import Chunking
from qa.index.errors import IndexUnavailable
from qa.index.storage import load, publish


def test_round_trip_build_save_load_search(seeds_dir: Path, tmp_path: Path, fake_embedder) -> None:
    docs, problems = read_corpus(seeds_dir)
    assert not problems
    index = build(docs, fake_embedder, Chunking(2, 1))
    publish(index, tmp_path / "index")
    loaded = load(tmp_path / "index")
    assert [d.doc_id for d in loaded.documents] == ["chips", "quad"]
    assert loaded.sentence_count == index.sentence_count == 5
    query = fake_embedder.encode(["Prime Minister Shigeru Ishiba welcomed the plan."])
    _, rows = loaded.sentence_store.search(query, 1)
    assert (
        loaded.sentence_text(int(rows[0][0])) == "Prime Minister Shigeru Ishiba welcomed the plan."
    )
    manifest = loaded.manifest
    assert manifest.chunking == Chunking(2, 1)
    assert manifest.model.weights_sha256 == "f" * 64
    assert manifest.model.dimension == 16 and manifest.model.normalized is True
    assert set(manifest.articles) == {"chips", "quad"}
    assert {"numpy", "faiss-cpu", "sentence-transformers"} <= set(manifest.libraries)
    assert manifest.built_at and manifest.files


def test_missing_index_is_refused(tmp_path: Path) -> None:
    with pytest.raises(IndexUnavailable, match="no index"):
        load(tmp_path / "nothing")


def test_an_index_written_before_the_caps_is_served_within_them(
    seeds_dir: Path, tmp_path: Path, fake_embedder
) -> None:
    # Indexes built before metadata had caps kept a 4.4 MB title, which every /ask returned.
    docs, _ = read_corpus(seeds_dir)
    old = [
        replace(docs[0], title="T" * 5000, url="javascript:alert(1)", author="A " * 400),
        replace(docs[1], source="S" * 1000, url="https://example.org/" + "p" * 3000),
    ]
    publish(build(old, fake_embedder, Chunking(2, 1)), tmp_path / "index")
    first, second = load(tmp_path / "index").documents
    assert len(first.title) <= META_CHARS["title"] and first.title.startswith("TTT")
    assert first.url is None and len(first.author or "") <= META_CHARS["author"]
    assert len(second.source or "") <= META_CHARS["source"] and second.url is None
    assert first.text == docs[0].text and first.sentences == docs[0].sentences
