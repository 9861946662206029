"""The seeds folder as a store: checked doc_ids and articles, atomic writes, engine writes."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from qa.core.settings import Settings
from qa.corpus.documents import ArticleError, fingerprint_files, read_corpus
from qa.corpus.seeds import (
    TooLarge,
    article_from_file,
    article_from_text,
    check_doc_id,
    clean_temp_files,
    derive_doc_id,
    read_seeds,
    seed_files,
    write_seed,
)
from qa.index.index import CURRENT, MANIFEST, load
from qa.service.engine import Engine
from qa.service.startup import prepare_index
from qa.service.updates import DocIdTaken, IndexUpdateFailed
from tests.conftest import FakeEmbedder

MB = 1024 * 1024


def text_article(doc_id: str, text: str, title: str | None = None):
    return article_from_text(text, doc_id=doc_id, title=title, max_bytes=MB)


def assert_consistent(settings: Settings) -> None:
    """The published index is exactly the seeds folder."""
    manifest = json.loads((settings.index_dir / CURRENT / MANIFEST).read_text())
    assert manifest["sources"] == fingerprint_files(settings.seeds_dir)
    documents, _ = read_corpus(settings.seeds_dir)
    assert manifest["articles"] == {d.doc_id: d.sha256 for d in documents}


@pytest.mark.parametrize(
    "doc_id",
    [
        "",
        ".",
        "..",
        ".hidden",
        "../../etc/passwd",
        "..%2F..%2Fetc%2Fpasswd",
        "a/b",
        "a\\b",
        "/etc/passwd",
        "a\x00b",
        "a b",
        "ünïcode",
        "x" * 129,
    ],
)
def test_unsafe_doc_ids_are_refused(doc_id: str) -> None:
    with pytest.raises(ArticleError, match="not allowed"):
        check_doc_id(doc_id)


@pytest.mark.parametrize("doc_id", ["a", "A-b_c.d", "2025.11.27-tokyo", "x" * 128, "a..b"])
def test_safe_doc_ids_pass(doc_id: str) -> None:
    assert check_doc_id(doc_id) == doc_id


def test_derived_doc_id_is_readable_stable_and_safe() -> None:
    doc_id = derive_doc_id(None, "Zürich hosts the talks. More follows.")
    assert doc_id.startswith("zurich-hosts-the-talks-more-follows-")
    assert doc_id == derive_doc_id(None, "Zürich hosts the talks. More follows.")
    assert check_doc_id(derive_doc_id("!!!", "text")).startswith("article-")
    assert derive_doc_id("Title", "a") != derive_doc_id("Title", "b")


def test_text_article_with_title_is_markdown_with_a_heading() -> None:
    article = text_article("t", "Body text here.", title="The Title")
    assert article.suffix == ".md"
    assert article.data == b"# The Title\n\nBody text here."
    assert article.document.title == "The Title"


@pytest.mark.parametrize(
    ("text", "title", "fragment"),
    [
        ("", None, "empty"),
        ("   \n\t", None, "empty"),
        ("abc\x00def", None, "binary"),
        ("bad \ud800 surrogate", None, "surrogate"),
        ("# Only a heading\n", None, "no sentences"),
        ("Fine text.", "two\nlines", "one line"),
        ("Fine text.", " ", "one line"),
    ],
)
def test_bad_text_is_refused(text: str, title: str | None, fragment: str) -> None:
    with pytest.raises(ArticleError, match=fragment):
        text_article("t", text, title)


def test_too_large_article_is_refused() -> None:
    with pytest.raises(TooLarge, match="QA_MAX_ARTICLE_BYTES"):
        article_from_text("word " * 100, doc_id="t", title=None, max_bytes=100)


@pytest.mark.parametrize(
    ("name", "data", "fragment"),
    [
        ("a.pdf", b"text", ".txt or .md"),
        ("noext", b"text", ".txt or .md"),
        ("../evil.txt", b"text", "bare name"),
        ("..\\evil.txt", b"text", "bare name"),
        (".hidden.txt", b"text", "not allowed"),
        ("bin.txt", b"\x00\x01\x02", "binary"),
        ("latin.txt", "café".encode("latin-1"), "UTF-8"),
        ("empty.md", b"", "empty"),
    ],
)
def test_bad_uploads_are_refused(name: str, data: bytes, fragment: str) -> None:
    with pytest.raises(ArticleError, match=fragment):
        article_from_file(name, data, doc_id=None, max_bytes=MB)


def test_upload_keeps_bytes_and_suffix() -> None:
    data = "\ufeffBOM and CRLF.\r\nSecond line.".encode()
    article = article_from_file("Note.MD", data, doc_id=None, max_bytes=MB)
    assert (article.doc_id, article.suffix, article.data) == ("Note", ".md", data)
    assert article.document.text == "BOM and CRLF.\r\nSecond line."


def test_write_seed_is_atomic_and_replaces_in_place(seeds_dir: Path) -> None:
    path = write_seed(seeds_dir, text_article("new", "First version."))
    assert path == seeds_dir / "new.txt" and path.read_text() == "First version."
    # A replacement sent as Markdown keeps the article's file: never two files for one doc_id.
    path = write_seed(seeds_dir, text_article("new", "Second version.", title="T"))
    assert path == seeds_dir / "new.txt"
    assert seed_files(seeds_dir, "new") == [path]
    assert not [p for p in seeds_dir.iterdir() if p.name.startswith(".")]


def test_write_seed_removes_stale_twins(seeds_dir: Path) -> None:
    (seeds_dir / "twin.md").write_text("Old markdown.")
    (seeds_dir / "twin.txt").write_text("Old text.")
    write_seed(seeds_dir, text_article("twin", "New text."))
    assert seed_files(seeds_dir, "twin") == [seeds_dir / "twin.md"]
    assert (seeds_dir / "twin.md").read_text() == "New text."


def test_a_failed_write_leaves_the_old_file_and_no_temp(seeds_dir: Path, monkeypatch) -> None:
    def boom(*_args: object) -> None:
        raise OSError("disk full")

    monkeypatch.setattr("qa.corpus.seeds.os.replace", boom)
    with pytest.raises(OSError, match="disk full"):
        write_seed(seeds_dir, text_article("quad", "Replacement."))
    assert (seeds_dir / "quad.txt").read_text().startswith("The two leaders")
    assert sorted(p.name for p in seeds_dir.iterdir()) == ["chips.md", "quad.txt"]


def test_clean_temp_files_removes_only_ours(seeds_dir: Path) -> None:
    ours = seeds_dir / ".quad.txt.0123456789abcdef0123456789abcdef.tmp"
    ours.write_text("half")
    theirs = seeds_dir / ".notes"
    theirs.write_text("keep")
    assert clean_temp_files(seeds_dir) == [ours]
    assert theirs.exists() and not ours.exists()


def test_read_seeds_reuses_unchanged_documents(seeds_dir: Path) -> None:
    first = read_seeds(seeds_dir, {})
    assert [d.doc_id for d in first.documents] == ["chips", "quad"]
    assert first.sources == fingerprint_files(seeds_dir)
    known = {d.doc_id: d for d in first.documents}
    (seeds_dir / "quad.txt").write_text("Changed text.")
    second = read_seeds(seeds_dir, known)
    assert second.documents[0] is known["chips"]
    assert second.documents[1] is not known["quad"]
    assert second.documents == read_corpus(seeds_dir)[0]


# ------------------------------------------------------------------------- engine writes


@pytest.fixture
def engine(settings: Settings) -> Engine:
    return Engine.open(settings, embedder=FakeEmbedder())[0]


def test_write_embeds_only_the_new_article(engine: Engine, settings: Settings) -> None:
    embedder = engine.embedder
    assert isinstance(embedder, FakeEmbedder)
    before = embedder.texts
    (outcome,) = engine.write([text_article("zebra", "Zebras crossed the road in Nairobi.")])
    assert outcome.change == "created"
    assert embedder.texts - before == 2  # one sentence and one chunk
    assert "zebra" in engine.index.doc_pos
    assert engine.ask("Where did zebras cross the road?").citations[0].doc_id == "zebra"
    assert_consistent(settings)
    assert engine.state.version == (settings.index_dir / CURRENT).readlink().name


def test_rewrite_of_same_bytes_is_unchanged_and_publishes_nothing(engine: Engine) -> None:
    version = engine.state.version
    (outcome,) = engine.write([text_article("quad", (engine.index.documents[1].text))])
    assert outcome.change == "unchanged" and engine.state.version == version


def test_create_only_refuses_an_existing_doc_id(engine: Engine, settings: Settings) -> None:
    before = fingerprint_files(settings.seeds_dir)
    with pytest.raises(DocIdTaken, match="PUT /documents/quad"):
        engine.write([text_article("quad", "Other text.")], create_only=True)
    assert fingerprint_files(settings.seeds_dir) == before


def test_remove(engine: Engine, settings: Settings) -> None:
    outcomes = engine.remove(["quad", "nope"])
    assert [o.change for o in outcomes] == ["removed", "missing"]
    assert list(engine.index.doc_pos) == ["chips"]
    assert not (settings.seeds_dir / "quad.txt").exists()
    assert_consistent(settings)


def test_failed_index_update_keeps_the_article_and_serves_the_old_index(
    engine: Engine, settings: Settings, monkeypatch
) -> None:
    def boom(*_args: object, **_kwargs: object) -> None:
        raise OSError("no space left on device")

    monkeypatch.setattr("qa.service.updates.publish", boom)
    with pytest.raises(IndexUpdateFailed, match="no space left"):
        engine.write([text_article("kept", "This article is kept.")])
    assert "kept" not in engine.index.doc_pos
    assert (settings.seeds_dir / "kept.txt").exists()
    monkeypatch.undo()
    # The next start-up (or write) indexes it.
    index, report = prepare_index(settings, _models(engine))
    assert report.built and "kept" in index.doc_pos


def test_refresh_picks_up_files_changed_by_hand(engine: Engine, settings: Settings) -> None:
    (settings.seeds_dir / "hand.txt").write_text("Placed here by hand.")
    assert engine.refresh()
    assert "hand" in engine.index.doc_pos
    assert not engine.refresh()
    assert_consistent(settings)


def test_follow_serves_what_another_process_published(settings: Settings) -> None:
    server = Engine.open(settings, embedder=FakeEmbedder())[0]
    other = Engine.open(settings, embedder=FakeEmbedder())[0]  # e.g. `qa add` beside a server
    other.write([text_article("elsewhere", "Published by another process.")])
    assert "elsewhere" not in server.index.doc_pos
    assert server.follow()
    assert "elsewhere" in server.index.doc_pos
    assert not server.follow()


def test_follow_rebuilds_a_corrupt_published_index(settings: Settings) -> None:
    server = Engine.open(settings, embedder=FakeEmbedder())[0]
    other = Engine.open(settings, embedder=FakeEmbedder())[0]
    other.write([text_article("elsewhere", "Published by another process.")])
    vectors = settings.index_dir / CURRENT / "sentence_vectors.npy"
    vectors.write_bytes(vectors.read_bytes()[:-7])
    messages: list[str] = []
    assert server.follow(log=messages.append)
    assert "not usable" in messages[0]
    assert "elsewhere" in server.index.doc_pos
    assert load(settings.index_dir).sentence_count == server.index.sentence_count
    assert_consistent(settings)


def _models(engine: Engine):
    from qa.embed.loader import ModelLoader

    return ModelLoader(engine.settings, engine.embedder)
