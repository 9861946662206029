"""A damaged index file is never served: each one, flipped, truncated or deleted in turn,
is reported by name and the index is rebuilt from the seeds folder, answering as before."""

from __future__ import annotations

import json
import os
import shutil
import threading
import time
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from qa.core.settings import Settings
from qa.engine.engine import Engine
from qa.index.errors import IndexUnavailable
from qa.index.layout import CURRENT, MANIFEST
from qa.index.storage import load
from qa.service.app import create_app
from tests.conftest import FakeEmbedder

QUESTIONS = ("Who welcomed the plan?", "Where will semiconductor factories open?")


def flip(path: Path) -> None:
    data = bytearray(path.read_bytes())
    for at in {0, len(data) // 2, len(data) - 1}:
        data[at] ^= 0x5A
    path.write_bytes(bytes(data))


def truncate(path: Path) -> None:
    path.write_bytes(path.read_bytes()[: len(path.read_bytes()) // 2])


def delete(path: Path) -> None:
    path.unlink()


DAMAGE = {"flip": flip, "truncate": truncate, "delete": delete}


def answers(engine: Engine) -> list[tuple[str | None, list[tuple[str, int, int, str]]]]:
    out = []
    for question in QUESTIONS:
        answer = engine.ask(question, 3)
        cited = [(c.doc_id, c.start, c.end, c.text) for c in answer.citations]
        out.append((answer.text, cited))
    return out


def index_files(index_dir: Path) -> list[str]:
    manifest = json.loads((index_dir / CURRENT / MANIFEST).read_text())
    return sorted(manifest["files"])


@pytest.fixture
def pristine(settings: Settings, tmp_path: Path):
    """A built index and the answers it gives; restored before each damage."""
    engine, _ = Engine.open(settings, embedder=FakeEmbedder())
    backup = tmp_path / "pristine"
    shutil.copytree(settings.index_dir, backup, symlinks=True)
    return answers(engine), backup


def restore(settings: Settings, backup: Path) -> None:
    shutil.rmtree(settings.index_dir)
    shutil.copytree(backup, settings.index_dir, symlinks=True)


@pytest.mark.parametrize("damage", sorted(DAMAGE))
def test_each_damaged_index_file_is_refused_and_rebuilt(
    settings: Settings, pristine, damage: str
) -> None:
    expected, backup = pristine
    names = index_files(settings.index_dir)
    assert {"documents.json", "sentence_vectors.npy", "chunks.faiss"} <= set(names)
    assert any(n.startswith("bm25/") for n in names)
    assert any(n.startswith("bm25_chunks/") for n in names)
    for name in names:
        restore(settings, backup)
        broken_version = os.readlink(settings.index_dir / CURRENT)
        DAMAGE[damage](settings.index_dir / CURRENT / name)
        with pytest.raises(IndexUnavailable, match=r"(corrupt|missing)") as refused:
            load(settings.index_dir)
        assert name in str(refused.value) and "rebuild" in str(refused.value)
        messages: list[str] = []
        engine, report = Engine.open(settings, embedder=FakeEmbedder(), log=messages.append)
        assert report.built, name
        assert any("not usable" in m and name in m for m in messages), messages
        assert os.readlink(settings.index_dir / CURRENT) != broken_version
        assert answers(engine) == expected, name
        assert load(settings.index_dir).sentence_count == 5


@pytest.mark.parametrize("damage", ["flip", "truncate", "delete"])
def test_a_damaged_manifest_is_reported_and_rebuilt(
    settings: Settings, pristine, damage: str
) -> None:
    expected, _ = pristine
    DAMAGE[damage](settings.index_dir / CURRENT / MANIFEST)
    messages: list[str] = []
    engine, report = Engine.open(settings, embedder=FakeEmbedder(), log=messages.append)
    assert report.built
    if damage != "flip":  # a flipped byte may leave valid JSON with a wrong hash: also refused
        assert any("manifest" in m and "unreadable" in m for m in messages), messages
    assert answers(engine) == expected


def test_a_dangling_current_link_is_rebuilt(settings: Settings, pristine) -> None:
    expected, _ = pristine
    shutil.rmtree(settings.index_dir / os.readlink(settings.index_dir / CURRENT))
    engine, report = Engine.open(settings, embedder=FakeEmbedder())
    assert report.built and answers(engine) == expected


@pytest.mark.parametrize("name", ["sentences.faiss", "documents.json", "bm25/doc_freq.json"])
def test_the_service_rebuilds_and_never_answers_from_a_broken_file(
    settings: Settings, pristine, monkeypatch, name: str
) -> None:
    """Over HTTP: while it rebuilds, /ask says 503; then it answers exactly as before."""
    expected, _ = pristine
    flip(settings.index_dir / CURRENT / name)
    release = threading.Event()
    real_open = Engine.open

    def gated_open(settings: Settings, **kwargs: object):
        assert release.wait(10)
        return real_open(settings, embedder=FakeEmbedder())

    monkeypatch.setattr("qa.service.app.Engine.open", gated_open)
    with TestClient(create_app(settings), raise_server_exceptions=False) as c:
        r = c.post("/ask", json={"question": QUESTIONS[0]})
        assert r.status_code == 503 and "loading" in r.json()["error"]
        release.set()
        deadline = time.monotonic() + 10
        while c.get("/readyz").status_code != 200:
            assert time.monotonic() < deadline
            time.sleep(0.02)
        for question, (text, cited) in zip(QUESTIONS, expected, strict=True):
            body = c.post("/ask", json={"question": question, "top_k": 3}).json()
            assert body["answer"] == text
            got = [(x["doc_id"], x["start"], x["end"], x["text"]) for x in body["citations"]]
            assert got == cited
    load(settings.index_dir)  # the published index verifies


def test_a_damaged_index_is_rebuilt_from_the_last_intact_version(settings: Settings) -> None:
    """Recovery re-embeds only what changed since the last intact version, not everything."""
    from qa.corpus.seeds import article_from_text

    engine, _ = Engine.open(settings, embedder=FakeEmbedder())
    text = "Zebras crossed the road in Nairobi."
    engine.write([article_from_text(text, doc_id="zebra", title=None, max_bytes=10**6)])
    expected = answers(engine)
    flip(settings.index_dir / CURRENT / "sentence_vectors.npy")
    embedder = FakeEmbedder()
    messages: list[str] = []
    recovered, report = Engine.open(settings, embedder=embedder, log=messages.append)
    assert report.built and report.reasons[0] == "the published index is damaged"
    assert any("intact earlier version" in m for m in messages), messages
    assert embedder.texts == 2  # the zebra article's sentence and chunk, nothing else
    assert answers(recovered) == expected
    assert "zebra" in load(settings.index_dir).doc_pos


def invent_text(index_dir: Path) -> None:
    """Change a name in documents.json, keeping it valid JSON: text that is in no article."""
    path = index_dir / CURRENT / "documents.json"
    path.write_text(path.read_text().replace("Shigeru Ishiba", "Rhigeru Ishiba"))


@pytest.mark.parametrize("strip", ["files key", "documents.json entry", "chunking key"])
def test_a_manifest_missing_integrity_data_is_damaged_and_rebuilt_never_served(
    settings: Settings, pristine, strip: str
) -> None:
    expected, _ = pristine
    path = settings.index_dir / CURRENT / MANIFEST
    manifest = json.loads(path.read_text())
    if strip == "files key":
        manifest["renamed_files"] = manifest.pop("files")
    elif strip == "documents.json entry":
        del manifest["files"]["documents.json"]
    else:
        del manifest["chunking"]
    path.write_text(json.dumps(manifest))
    invent_text(settings.index_dir)
    with pytest.raises(IndexUnavailable, match="manifest"):
        load(settings.index_dir)
    messages: list[str] = []
    engine, report = Engine.open(settings, embedder=FakeEmbedder(), log=messages.append)
    assert report.built
    assert any("manifest" in m for m in messages), messages
    assert answers(engine) == expected
    assert not any("Rhigeru" in d.text for d in engine.index.documents)
    assert not any("Rhigeru" in d.text for d in load(settings.index_dir).documents)


def make_current_a_folder(index_dir: Path) -> None:
    """What `cp -r` of a backup that followed the link leaves: `current` a real folder."""
    link = index_dir / CURRENT
    target = index_dir / os.readlink(link)
    link.unlink()
    shutil.copytree(target, link)
    shutil.rmtree(target)


def versions(index_dir: Path) -> list[str]:
    return sorted(p.name for p in index_dir.glob("v-*"))


def test_a_write_while_current_is_a_real_folder_publishes_and_leaves_a_link(
    settings: Settings, pristine
) -> None:
    from qa.corpus.seeds import article_from_text

    engine, _ = Engine.open(settings, embedder=FakeEmbedder())
    make_current_a_folder(settings.index_dir)
    text = "Zebras crossed the road in Nairobi on Tuesday."
    (outcome,) = engine.write(
        [article_from_text(text, doc_id="zebra", title=None, max_bytes=10**6)]
    )
    assert outcome.change == "created"
    current = settings.index_dir / CURRENT
    assert current.is_symlink() and os.readlink(current) == engine.state.version
    assert len(versions(settings.index_dir)) <= 2  # the new one and the moved folder, pruned later
    served = load(settings.index_dir)
    assert "zebra" in served.doc_pos and served.manifest.sources["zebra.txt"]
    assert engine.ask("Which animals crossed the road?", 1).citations[0].doc_id == "zebra"
    # The next writes prune the moved folder like any old version.
    engine.remove(["zebra"])
    engine.write([article_from_text(text, doc_id="zebra2", title=None, max_bytes=10**6)])
    assert len(versions(settings.index_dir)) == 2


def test_start_up_with_current_a_real_folder_serves_it_through_a_link(
    settings: Settings, pristine
) -> None:
    expected, _ = pristine
    make_current_a_folder(settings.index_dir)
    messages: list[str] = []
    engine, report = Engine.open(settings, embedder=FakeEmbedder(), log=messages.append)
    assert not report.built  # its files verified: nothing to rebuild
    assert any("not a link" in m for m in messages), messages
    assert (settings.index_dir / CURRENT).is_symlink()
    assert versions(settings.index_dir) == [os.readlink(settings.index_dir / CURRENT)]
    assert answers(engine) == expected


def test_a_publish_that_cannot_swap_current_leaves_no_version_folder(
    settings: Settings, pristine, monkeypatch: pytest.MonkeyPatch
) -> None:
    from qa.index import storage as index_module

    before = versions(settings.index_dir)
    served = load(settings.index_dir)

    def refuse(src: object, dst: object) -> None:
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(index_module.os, "replace", refuse)
    with pytest.raises(OSError, match="No space"):
        index_module.publish(served, settings.index_dir)
    assert versions(settings.index_dir) == before
    assert not list(settings.index_dir.glob(".current-*"))
