"""ensure_index: a no-op when current, else a rebuild that never serves half an index."""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest

from qa.corpus.documents import read_corpus
from qa.index.build import build
from qa.index.chunking import Chunking
from qa.index.ensure import ensure_index
from qa.index.errors import IndexUnavailable
from qa.index.layout import CURRENT, MANIFEST
from qa.index.storage import load
from tests.conftest import FakeEmbedder

DEFAULT_CHUNKING = Chunking()


def ensure(
    seeds: Path, index_dir: Path, embedder: FakeEmbedder, chunking: Chunking = DEFAULT_CHUNKING
):
    return ensure_index(
        seeds, index_dir, lambda: embedder, embedder.fingerprint.weights_sha256, chunking
    )


def test_unchanged_corpus_is_a_no_op(seeds_dir: Path, tmp_path: Path, fake_embedder) -> None:
    _, first = ensure(seeds_dir, tmp_path / "index", fake_embedder)
    assert first.built
    version = os.readlink(tmp_path / "index" / CURRENT)
    calls = fake_embedder.calls
    _, second = ensure(seeds_dir, tmp_path / "index", fake_embedder)
    assert not second.built
    assert fake_embedder.calls == calls
    assert os.readlink(tmp_path / "index" / CURRENT) == version


@pytest.mark.parametrize("change", ["add", "edit", "remove"])
def test_changed_corpus_is_noticed_and_only_new_text_embedded(
    seeds_dir: Path, tmp_path: Path, fake_embedder, change: str
) -> None:
    ensure(seeds_dir, tmp_path / "index", fake_embedder)
    before = fake_embedder.texts
    if change == "add":
        (seeds_dir / "new.txt").write_text("A new article arrived today.", encoding="utf-8")
    elif change == "edit":
        (seeds_dir / "quad.txt").write_text("The summit moved to Delhi.", encoding="utf-8")
    else:
        (seeds_dir / "chips.md").unlink()
    index, report = ensure(seeds_dir, tmp_path / "index", fake_embedder)
    assert report.built and report.reasons
    embedded = fake_embedder.texts - before
    assert embedded == {"add": 2, "edit": 2, "remove": 0}[change]  # 1 sentence + 1 chunk each
    fresh = build(read_corpus(seeds_dir)[0], FakeEmbedder(), Chunking())
    assert (index.sentence_vectors == fresh.sentence_vectors).all()
    assert [d.doc_id for d in index.documents] == [d.doc_id for d in fresh.documents]


def test_chunking_change_rebuilds(seeds_dir: Path, tmp_path: Path, fake_embedder) -> None:
    ensure(seeds_dir, tmp_path / "index", fake_embedder)
    _, report = ensure(seeds_dir, tmp_path / "index", fake_embedder, Chunking(2, 0))
    assert report.built and "chunking changed" in report.reasons


def test_crash_mid_build_leaves_the_old_index(
    seeds_dir: Path, tmp_path: Path, fake_embedder, monkeypatch
) -> None:
    index_dir = tmp_path / "index"
    ensure(seeds_dir, index_dir, fake_embedder)
    version = os.readlink(index_dir / CURRENT)
    (seeds_dir / "new.txt").write_text("Another article.", encoding="utf-8")

    def boom(*_args, **_kwargs):
        raise KeyboardInterrupt

    monkeypatch.setattr("qa.index.storage.Lexical.save", boom)
    with pytest.raises(KeyboardInterrupt):
        ensure(seeds_dir, index_dir, fake_embedder)
    assert os.readlink(index_dir / CURRENT) == version
    assert not list(index_dir.glob(".tmp-*"))
    assert len(load(index_dir).documents) == 2


def test_corrupt_file_is_refused_and_rebuilt(
    seeds_dir: Path, tmp_path: Path, fake_embedder
) -> None:
    index_dir = tmp_path / "index"
    ensure(seeds_dir, index_dir, fake_embedder)
    target = index_dir / CURRENT / "sentence_vectors.npy"
    data = bytearray(target.read_bytes())
    data[-1] ^= 0xFF
    target.write_bytes(bytes(data))
    with pytest.raises(IndexUnavailable, match="corrupt"):
        load(index_dir)
    _, report = ensure(seeds_dir, index_dir, fake_embedder)
    assert report.built
    assert load(index_dir).sentence_count == 5


def test_manifest_lists_every_article_hash(seeds_dir: Path, tmp_path: Path, fake_embedder) -> None:
    ensure(seeds_dir, tmp_path / "index", fake_embedder)
    manifest = json.loads((tmp_path / "index" / CURRENT / MANIFEST).read_text())
    assert set(manifest["sources"]) == {"quad.txt", "chips.md"}
    assert all(len(h) == 64 for h in manifest["sources"].values())
