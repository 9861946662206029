"""Start-up: what interrupted writes leave is cleared, the index is built or loaded."""

from __future__ import annotations

from qa.core.settings import Settings
from qa.embed.loader import ModelLoader
from qa.engine.startup import current_version, prepare_index, recover
from qa.index.layout import CURRENT
from tests.conftest import FakeEmbedder


def test_prepare_index_builds_once_then_loads(
    settings: Settings, fake_embedder: FakeEmbedder
) -> None:
    assert current_version(settings.index_dir) is None
    index, report = prepare_index(settings, ModelLoader(settings, fake_embedder))
    assert report.built and sorted(index.doc_pos) == ["chips", "quad"]
    version = current_version(settings.index_dir)
    assert version is not None and version.startswith("v-")
    assert (settings.index_dir / CURRENT).readlink().name == version
    again, report = prepare_index(settings, ModelLoader(settings, fake_embedder))
    assert not report.built and again.doc_pos == index.doc_pos


def test_recover_removes_what_an_interrupted_write_left(settings: Settings) -> None:
    settings.index_dir.mkdir()
    temp_seed = settings.seeds_dir / f".zebra.txt.{'0' * 32}.tmp"
    temp_seed.write_text("half an article")
    (settings.index_dir / ".tmp-build").mkdir()
    (settings.index_dir / ".current-1").symlink_to("nowhere")
    messages: list[str] = []
    recover(settings.seeds_dir, settings.index_dir, messages.append)
    assert not temp_seed.exists()
    assert list(settings.index_dir.glob(".tmp-*")) == []
    assert list(settings.index_dir.glob(".current-*")) == []
    assert any("interrupted write" in m for m in messages)
