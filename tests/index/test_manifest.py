"""The typed manifest: what earlier builds wrote still loads to the same values, round trips,
and a manifest of another format version is refused and rebuilt."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from qa.index.chunking import Chunking
from qa.index.embed_corpus import EmbedStats
from qa.index.ensure import ensure_index
from qa.index.errors import IndexUnavailable
from qa.index.layout import CURRENT, MANIFEST
from qa.index.manifest import (
    FORMAT_VERSION,
    Counts,
    Manifest,
    ModelRecord,
    load_manifest,
    read_manifest,
    write_manifest,
)
from qa.index.storage import load
from tests.conftest import FakeEmbedder

# Written by the code before the typed manifest (commit 90e2924), copied verbatim.
WRITTEN = Path(__file__).resolve().parents[1] / "data" / "manifests"
FIXTURES = sorted(WRITTEN.glob("v3-*.json"))


def written(name: str) -> dict:
    return json.loads((WRITTEN / name).read_text(encoding="utf-8"))


@pytest.mark.parametrize("path", FIXTURES, ids=lambda p: p.stem)
def test_a_manifest_written_before_loads_and_round_trips(path: Path) -> None:
    data = json.loads(path.read_text(encoding="utf-8"))
    manifest = Manifest.from_json(data)
    assert manifest.to_json() == data
    assert list(manifest.to_json()) == list(data)  # the same keys, in the same order


def test_a_faiss_manifest_loads_to_the_same_values() -> None:
    data = written("v3-faiss.json")
    m = Manifest.from_json(data)
    assert m.format_version == FORMAT_VERSION == 3
    assert m.model == ModelRecord(
        name="fake",
        weights_sha256="f" * 64,
        encoder="torch",
        source_weights_sha256="f" * 64,
        dimension=16,
        normalized=True,
        similarity="cosine (inner product of normalised vectors)",
    )
    assert m.chunking == Chunking(3, 1)
    assert m.backend == "faiss" and m.store == data["store"]
    assert m.articles == data["articles"] and m.sources == data["sources"]
    assert m.skipped == ()
    assert m.counts == Counts(articles=2, sentences=5, chunks=2, embedded=7)
    assert m.embedding == EmbedStats(**data["embedding"])
    assert m.libraries == data["libraries"]
    assert m.built_at == data["built_at"] and m.build_seconds == data["build_seconds"]
    assert m.files == data["files"]


def test_a_milvus_manifest_keeps_its_store_record() -> None:
    data = written("v3-milvus.json")
    m = Manifest.from_json(data)
    assert m.backend == "milvus"
    assert m.store["collection"] == "test_ffffffffffff" and m.store["rows_inserted"] == 7
    assert m.store == data["store"]


def test_a_build_writes_what_earlier_builds_wrote(seeds_dir: Path, tmp_path: Path) -> None:
    embedder = FakeEmbedder()
    ensure_index(seeds_dir, tmp_path, lambda: embedder, "f" * 64, Chunking())
    now = json.loads((tmp_path / CURRENT / MANIFEST).read_text(encoding="utf-8"))
    before = written("v3-faiss.json")
    assert list(now) == list(before)
    for key in ("model", "chunking", "store", "articles", "sources", "skipped", "counts"):
        assert now[key] == before[key], key
    assert set(now["files"]) == set(before["files"])
    assert set(now["embedding"]) == set(before["embedding"])


def test_write_then_read_gives_the_same_manifest(tmp_path: Path) -> None:
    manifest = Manifest.from_json(written("v3-milvus.json"))
    write_manifest(manifest, tmp_path / MANIFEST)
    assert load_manifest(tmp_path, tmp_path) == manifest


@pytest.mark.parametrize("version", [2, 4, None])
def test_another_format_version_is_refused_clearly(version: int | None) -> None:
    data = written("v3-faiss.json") | {"format_version": version}
    with pytest.raises(IndexUnavailable, match=f"has format {version}, this qa reads 3; rebuild"):
        Manifest.from_json(data, "/srv/index")


@pytest.mark.parametrize("key", ["model", "chunking", "store", "counts", "files"])
def test_a_manifest_without_what_a_build_writes_is_refused(key: str) -> None:
    data = written("v3-faiss.json")
    del data[key]
    with pytest.raises(IndexUnavailable, match=rf"manifest of .* lacks {key}"):
        Manifest.from_json(data)


@pytest.mark.parametrize(
    ("key", "garbled"),
    [("counts", {"articles": "many"}), ("store", {"type": "IndexFlatIP"}), ("chunking", [3, 1])],
)
def test_a_garbled_field_is_refused_not_guessed(key: str, garbled: object) -> None:
    data = written("v3-faiss.json") | {key: garbled}
    with pytest.raises(IndexUnavailable, match=r"manifest of .* is invalid"):
        Manifest.from_json(data)


def test_a_newer_index_is_refused_by_load_and_rebuilt(seeds_dir: Path, tmp_path: Path) -> None:
    index_dir = tmp_path / "index"
    embedder = FakeEmbedder()
    ensure_index(seeds_dir, index_dir, lambda: embedder, "f" * 64, Chunking())
    path = index_dir / CURRENT / MANIFEST
    path.write_text(json.dumps(json.loads(path.read_text()) | {"format_version": 4}))
    assert read_manifest(index_dir) is None
    with pytest.raises(IndexUnavailable, match="has format 4, this qa reads 3; rebuild it"):
        load(index_dir)
    messages: list[str] = []
    index, report = ensure_index(
        seeds_dir, index_dir, lambda: embedder, "f" * 64, Chunking(), log=messages.append
    )
    assert report.built and index.manifest.format_version == FORMAT_VERSION
    assert any("has format 4" in m for m in messages), messages
    assert load(index_dir).manifest == index.manifest
