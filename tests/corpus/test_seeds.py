"""The seeds folder as a store: checked articles, derived doc_ids, atomic writes, reads."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from qa.core.settings import Settings
from qa.corpus.documents import ArticleError, check_doc_id, fingerprint_files, read_corpus
from qa.corpus.seeds import (
    TooLarge,
    article_from_file,
    article_from_text,
    clean_temp_files,
    derive_doc_id,
    read_seeds,
    seed_files,
    write_seed,
)
from qa.index.layout import CURRENT, MANIFEST

MB = 1024 * 1024


def text_article(doc_id: str, text: str, title: str | None = None):
    return article_from_text(text, doc_id=doc_id, title=title, max_bytes=MB)


def assert_consistent(settings: Settings) -> None:
    """The published index is exactly the seeds folder."""
    manifest = json.loads((settings.index_dir / CURRENT / MANIFEST).read_text())
    assert manifest["sources"] == fingerprint_files(settings.seeds_dir)
    documents, _ = read_corpus(settings.seeds_dir)
    assert manifest["articles"] == {d.doc_id: d.sha256 for d in documents}


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


@given(st.one_of(st.none(), st.text()), st.text(), st.one_of(st.none(), st.text()))
def test_every_derived_doc_id_follows_the_doc_id_rule(
    title: str | None, text: str, url: str | None
) -> None:
    doc_id = derive_doc_id(title, text, url)
    assert check_doc_id(doc_id) == doc_id


@given(st.from_regex(r"[A-Za-z0-9._-]{1,128}", fullmatch=True))
def test_every_file_the_corpus_could_read_before_keeps_its_doc_id(stem: str) -> None:
    # The corpus reader once took any [A-Za-z0-9._-]{1,128} stem, but never lists a dot-file,
    # so every article it ever read has a doc_id that the one rule accepts.
    if not stem.startswith("."):
        assert check_doc_id(stem) == stem
