from __future__ import annotations

from pathlib import Path

import pytest

from qa.corpus import (
    ArticleError,
    decode_article,
    make_document,
    read_article,
    read_corpus,
    split_sentences,
    title_from,
)
from tests.conftest import SEEDS


def sentences(text: str) -> list[str]:
    return [text[s.start : s.end] for s in split_sentences(text)]


def assert_exact(text: str) -> None:
    previous_end = 0
    for span in split_sentences(text):
        piece = text[span.start : span.end]
        assert piece == piece.strip() and piece
        assert span.start >= previous_end
        previous_end = span.end


def test_abbreviations_do_not_split() -> None:
    text = "Dr. Smith met Mr. Jones in the U.S. on Friday. They talked."
    assert sentences(text) == ["Dr. Smith met Mr. Jones in the U.S. on Friday.", "They talked."]


def test_decimal_does_not_split() -> None:
    text = "The two agreed to a track 1.5 dialogue of think tanks. It starts soon."
    assert sentences(text)[0] == "The two agreed to a track 1.5 dialogue of think tanks."


def test_curly_quotes_apostrophes_and_dashes_stay_verbatim() -> None:
    text = "The pact is “a key pillar” of ties — officials said. India’s view is clear."
    assert sentences(text) == [
        "The pact is “a key pillar” of ties — officials said.",
        "India’s view is clear.",
    ]


def test_paragraph_without_full_stop_ends_at_line_break() -> None:
    text = "Key sectors — chips, minerals and energy\nOn chips, they signed a deal."
    assert sentences(text) == [
        "Key sectors — chips, minerals and energy",
        "On chips, they signed a deal.",
    ]


def test_crlf_line_ends_keep_exact_offsets() -> None:
    text = "First line here.\r\nSecond line here.\r\n"
    assert sentences(text) == ["First line here.", "Second line here."]
    assert_exact(text)


def test_bom_is_removed_and_offsets_index_the_served_text() -> None:
    text = decode_article("\ufeffHello there. General Kenobi.".encode())
    assert not text.startswith("\ufeff")
    assert sentences(text) == ["Hello there.", "General Kenobi."]


def test_empty_and_blank_text_have_no_sentences() -> None:
    assert split_sentences("") == []
    assert split_sentences("  \n\r\n ") == []


def test_empty_file_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "empty.txt"
    path.write_bytes(b"")
    with pytest.raises(ArticleError, match="empty"):
        read_article(path)


@pytest.mark.parametrize("data", [b"\xff\xfe\x00a", b"caf\xe9 au lait"])
def test_binary_or_non_utf8_is_refused(data: bytes) -> None:
    with pytest.raises(ArticleError):
        decode_article(data, "bad.txt")


def test_markdown_heading_is_the_title_and_not_a_sentence() -> None:
    doc = make_document("chips", "# Chip makers expand\n\nFactories will open. More soon.\n")
    assert doc.title == "Chip makers expand"
    assert [doc.text[s.start : s.end] for s in doc.sentences] == [
        "Factories will open.",
        "More soon.",
    ]


def test_title_falls_back_to_readable_file_name() -> None:
    assert title_from("india_japan-pact", "No heading here.") == "India japan pact"


def test_seed_article_sentences_are_exact() -> None:
    (path,) = sorted(SEEDS.glob("*.txt"))[:1]
    doc = read_article(path)
    assert len(doc.sentences) >= 15
    for span in doc.sentences:
        piece = doc.text[span.start : span.end]
        assert piece == piece.strip()
        assert piece in path.read_text(encoding="utf-8")
    texts = [doc.text[s.start : s.end] for s in doc.sentences]
    assert "They have held regular meetings since then." in texts
    assert any("a track 1.5 dialogue of think tanks." in t for t in texts)


def test_read_corpus_reports_bad_files_and_keeps_the_rest(tmp_path: Path) -> None:
    (tmp_path / "good.txt").write_text("A fine sentence.", encoding="utf-8")
    (tmp_path / "bad.txt").write_bytes(b"\xff\xfe\xfa")
    (tmp_path / "empty.md").write_bytes(b"")
    (tmp_path / "notes.csv").write_text("ignored", encoding="utf-8")
    docs, problems = read_corpus(tmp_path)
    assert [d.doc_id for d in docs] == ["good"]
    assert len(problems) == 2
    assert any("bad.txt" in p for p in problems) and any("empty.md" in p for p in problems)
