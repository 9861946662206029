"""Every metadata field is capped on every path: refused from the API, cut (with a warning)
from fetched pages and from a seeds folder written by hand, so that no article can make each
answer that cites it megabytes long."""

from __future__ import annotations

import logging
from pathlib import Path

import pytest

from qa.corpus.documents import ArticleError, Meta, read_corpus
from qa.corpus.news import NewsPage
from qa.corpus.seeds import article_from_file, article_from_page, article_from_text

BODY = "The harbour bridge reopened to traffic on Wednesday after two years of repairs.\n"
HUGE_TITLE = "Bridge " * 630_000  # 4.4 MB, as in the issue


def front(**fields: str) -> str:
    return "---\n" + "".join(f"{k}: {v}\n" for k, v in fields.items()) + "---\n" + BODY


@pytest.mark.parametrize(
    ("fields", "fragment"),
    [
        ({"title": "T" * 301}, "title"),
        ({"url": "https://example.com/" + "a" * 2048}, "url"),
        ({"url": "javascript:alert(1)"}, "http"),
        ({"source": "S" * 201}, "source"),
        ({"author": "A" * 201}, "author"),
    ],
)
def test_front_matter_over_a_cap_is_refused_from_the_api(
    fields: dict[str, str], fragment: str
) -> None:
    text = front(**fields)
    with pytest.raises(ArticleError, match=fragment):
        article_from_text(text, doc_id="a", title=None, max_bytes=10_000_000)
    with pytest.raises(ArticleError, match=fragment):
        article_from_file("a.md", text.encode(), doc_id=None, max_bytes=10_000_000)


def test_a_heading_as_long_as_the_article_makes_a_title_of_at_most_300_characters() -> None:
    article = article_from_text(
        "# " + "word " * 10_000 + "\n\n" + BODY, doc_id="a", title=None, max_bytes=10**7
    )
    assert len(article.document.title) <= 300


def test_a_page_with_huge_metadata_is_stored_with_it_cut(caplog) -> None:
    meta = Meta(
        title="T " * 5000,
        url="https://news.example.com/" + "p" * 5000,
        published="2025-03-12",
        source="S" * 5000,
        author="A " * 5000,
    )
    with caplog.at_level(logging.WARNING):
        article = article_from_page(NewsPage(meta, BODY), doc_id="p", max_bytes=10**7)
    doc = article.document
    assert len(doc.title) <= 300 and doc.title.startswith("T T")
    assert doc.url is None  # a URL cut short would name another page
    assert len(doc.source or "") <= 200 and len(doc.author or "") <= 200
    assert doc.published == "2025-03-12"
    assert "title" in caplog.text and "url" in caplog.text


def test_a_seeds_folder_with_huge_front_matter_still_loads_with_it_cut(
    tmp_path: Path, caplog
) -> None:
    folder = tmp_path / "seeds"
    folder.mkdir()
    text = front(title=HUGE_TITLE, url="javascript:alert(1)", source="S" * 1000, author="A" * 1000)
    (folder / "huge.md").write_text(text, encoding="utf-8")
    with caplog.at_level(logging.WARNING):
        documents, problems = read_corpus(folder)
    assert problems == []
    [doc] = documents
    assert len(doc.title) <= 300 and doc.url is None
    assert len(doc.source or "") <= 200 and len(doc.author or "") <= 200
    assert "huge" in caplog.text and "title" in caplog.text
