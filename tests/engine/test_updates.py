"""The steps of a write: files stored or deleted in the seeds folder, the index rebuilt from it."""

from __future__ import annotations

import pytest

from qa.core.settings import Settings
from qa.corpus.seeds import ArticleFile, article_from_text
from qa.engine import updates
from qa.engine.startup import current_version
from qa.engine.updates import DocIdTaken, IndexUpdateFailed
from qa.index.build import build
from qa.index.chunking import Chunking
from qa.index.model import Index
from tests.conftest import FakeEmbedder

MB = 1024 * 1024


def text_article(doc_id: str, text: str) -> ArticleFile:
    return article_from_text(text, doc_id=doc_id, title=None, max_bytes=MB)


@pytest.fixture
def index(settings: Settings, fake_embedder: FakeEmbedder) -> Index:
    rebuilt = updates.rebuild(settings, fake_embedder, _empty(fake_embedder), None, {})
    assert rebuilt is not None
    return rebuilt[0]


def _empty(embedder: FakeEmbedder) -> Index:
    return build([], embedder, Chunking.from_settings(Settings()))


def test_store_creates_replaces_and_leaves_identical_bytes_alone(settings: Settings) -> None:
    seeds = settings.seeds_dir
    new = text_article("zebra", "Zebras crossed the road.")
    (created,) = updates.store(seeds, [new])
    assert created.change == "created" and (seeds / "zebra.txt").read_bytes() == new.data
    assert [o.change for o in updates.store(seeds, [new])] == ["unchanged"]
    (replaced,) = updates.store(seeds, [text_article("zebra", "Zebras walked on.")])
    assert replaced.change == "replaced" and replaced.document is not None


def test_refuse_taken_looks_at_the_seeds_folder_and_the_index(
    settings: Settings, index: Index
) -> None:
    updates.refuse_taken(settings.seeds_dir, [text_article("new", "A new article.")], index)
    (settings.seeds_dir / "quad.txt").unlink()  # still in the index
    with pytest.raises(DocIdTaken, match="PUT /documents/quad"):
        updates.refuse_taken(settings.seeds_dir, [text_article("quad", "Other.")], index)


def test_delete_tells_removed_from_missing(settings: Settings, index: Index) -> None:
    outcomes = updates.delete(settings.seeds_dir, ["quad", "nope"], index)
    assert [(o.doc_id, o.change) for o in outcomes] == [("quad", "removed"), ("nope", "missing")]
    assert not (settings.seeds_dir / "quad.txt").exists()


def test_rebuild_publishes_a_new_index_only_when_the_seeds_changed(
    settings: Settings, fake_embedder: FakeEmbedder, index: Index
) -> None:
    version = current_version(settings.index_dir)
    assert version is not None
    assert updates.rebuild(settings, fake_embedder, index, version, {}) is None
    updates.store(settings.seeds_dir, [text_article("zebra", "Zebras crossed the road.")])
    rebuilt = updates.rebuild(settings, fake_embedder, index, version, {})
    assert rebuilt is not None
    new_index, new_version = rebuilt
    assert "zebra" in new_index.doc_pos and new_version == current_version(settings.index_dir)


def test_rebuild_that_cannot_publish_says_the_change_is_kept(
    settings: Settings, fake_embedder: FakeEmbedder, index: Index, monkeypatch
) -> None:
    def full(*_args: object, **_kwargs: object) -> None:
        raise OSError("no space left on device")

    monkeypatch.setattr("qa.engine.updates.publish", full)
    updates.store(settings.seeds_dir, [text_article("zebra", "Zebras crossed the road.")])
    with pytest.raises(IndexUpdateFailed, match="the change is kept"):
        updates.rebuild(settings, fake_embedder, index, "v-old", {})
