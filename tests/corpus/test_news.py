"""Extraction of news pages (trafilatura) and feeds (feedparser), from files on disk."""

from __future__ import annotations

import pytest

from qa.corpus.documents import ArticleError, Meta
from qa.corpus.news import decode_page, extract_page, looks_like_html, parse_feed
from tests.news_site import ARTICLE_SENTENCES, BOILERPLATE, DATA, SQUATTED, story_page


@pytest.mark.parametrize("name", sorted(ARTICLE_SENTENCES))
def test_extracted_text_keeps_the_article_sentences_and_none_of_the_boilerplate(name: str):
    page = extract_page((DATA / name).read_bytes(), url="http://127.0.0.1/x")
    for sentence in ARTICLE_SENTENCES[name]:
        assert sentence in page.text
    for phrase in BOILERPLATE:
        assert phrase not in page.text, phrase


def test_headline_is_the_title_and_not_a_line_of_the_text() -> None:
    page = extract_page((DATA / "ecb-rates.html").read_bytes())
    assert page.meta.title == "ECB holds interest rates steady as inflation cools"
    assert page.meta.title not in page.text
    assert page.text.startswith("The European Central Bank kept its deposit rate")


def test_metadata_comes_from_the_page() -> None:
    # Fetched from the site's AMP host: its canonical URL, on the same site, is the URL.
    amp = "https://amp.news.example.com/harbour-bridge-reopens"
    page = extract_page((DATA / "harbour-bridge.html").read_bytes(), url=amp)
    assert page.meta == Meta(
        title="Harbour bridge reopens after two-year repair",
        url="https://news.example.com/2025/03/12/harbour-bridge-reopens",
        published="2025-03-12",
        source="The Coastal Herald",
        author="Maria Lindqvist",
    )


def test_page_without_canonical_url_keeps_the_fetched_url_and_the_fallback_fills_gaps() -> None:
    fallback = Meta(author="Feed Author", source="Feed Title", published="2020-01-01")
    page = extract_page(
        (DATA / "heatwave.html").read_bytes(), url="http://127.0.0.1:9/h", fallback=fallback
    )
    assert page.meta.url == "http://127.0.0.1:9/h"
    assert page.meta.published == "2025-06-28"  # the page's own date wins
    assert page.meta.source == "Iberia Weekly"
    assert page.meta.author == "Feed Author"


@pytest.mark.parametrize(
    "html", [b"", b"<html><body><nav>Home</nav></body></html>", b"\x00\x01\x02 binary"]
)
def test_page_without_article_text_is_refused_by_name(html: bytes) -> None:
    with pytest.raises(ArticleError, match=r"'upload\.html'"):
        extract_page(html, name="upload.html")


def test_rss_entries_have_links_titles_and_dates() -> None:
    data = (DATA / "rss.xml").read_bytes().replace(b"HOST", b"127.0.0.1:1")
    feed = parse_feed(data, "http://127.0.0.1:1/rss.xml")
    assert feed.title == "The Coastal Herald"
    assert [(e.title, e.published) for e in feed.entries] == [
        ("Harbour bridge reopens after two-year repair", "2025-03-12"),
        ("Spain records its hottest June night", "2025-06-28"),
        ("This story was taken down", "2025-06-30"),
    ]
    assert feed.entries[1].url == "http://127.0.0.1:1/climate/hottest-june-night"


def test_atom_entries_have_links_titles_dates_and_authors() -> None:
    data = (DATA / "atom.xml").read_bytes().replace(b"HOST", b"127.0.0.1:1")
    feed = parse_feed(data, "http://127.0.0.1:1/atom.xml")
    assert feed.title == "Daily Ledger: Markets"
    first, second = feed.entries
    assert first.url == "http://127.0.0.1:1/markets/ecb-holds-rates"
    assert (first.published, first.author) == ("2025-01-30", "Jonas Weber")
    assert second.published == "2025-06-28"  # only <updated>


@pytest.mark.parametrize("data", [b"", b"just words", b"<html><body>page</body></html>"])
def test_what_is_not_a_feed_is_refused_naming_the_url(data: bytes) -> None:
    with pytest.raises(ArticleError, match="http://x/feed"):
        parse_feed(data, "http://x/feed")


def test_looks_like_html() -> None:
    assert looks_like_html(b"  <!DOCTYPE html><html>")
    assert not looks_like_html(b"%PDF-1.7")


@pytest.mark.parametrize(
    ("fetched", "declared", "kept"),
    [
        ("http://squatter.example/s1", SQUATTED, "http://squatter.example/s1"),
        ("https://reuters.com.evil.co/s1", SQUATTED, "https://reuters.com.evil.co/s1"),
        ("https://evil.co.uk/s1", "https://www.bbc.co.uk/news/s1", "https://evil.co.uk/s1"),
        ("https://m.bbc.co.uk/news/s1", "https://www.bbc.co.uk/news/s1", None),
        ("https://amp.reuters.com/s1", SQUATTED, None),
    ],
)
def test_a_canonical_url_is_accepted_only_on_the_fetched_pages_own_site(
    fetched: str, declared: str, kept: str | None
) -> None:
    page = extract_page(story_page("s1", declared), url=fetched)
    assert page.meta.url == (kept or declared)


CAFE = "<html><head>{meta}<title>Café</title></head><body><p>Café crème à la carte.</p></body>"


@pytest.mark.parametrize(
    ("meta", "header", "encoding"),
    [
        ("", "iso-8859-1", "latin-1"),  # the header alone
        ('<meta charset="windows-1252">', None, "cp1252"),  # the page alone
        ('<meta http-equiv="Content-Type" content="text/html; charset=latin-1">', None, "latin-1"),
        ('<meta charset="utf-8">', "iso-8859-1", "latin-1"),  # the header wins
        ("", "no-such-charset", "utf-8"),  # an unknown name: detection
        ("", None, "utf-8"),
    ],
)
def test_a_page_is_decoded_by_its_header_then_its_meta_then_detection(
    meta: str, header: str | None, encoding: str
) -> None:
    html = CAFE.format(meta=meta)
    assert decode_page(html.encode(encoding), header) == html


@pytest.mark.parametrize(
    ("declared", "warned"),
    [
        ("2025-06-28T06:00:00+24:00", True),  # htmldate raised, and trafilatura lost the page
        ("2025-06-28T06:00:00-25:30", True),
        ("2025-13-45", False),  # htmldate's extensive search guessed 2025-01-01 from the year
    ],
)
def test_a_bad_date_is_dropped_and_the_article_kept(declared: str, warned: bool, caplog) -> None:
    html = (DATA / "heatwave.html").read_text().replace("2025-06-28T06:00:00+02:00", declared)
    assert declared in html
    page = extract_page(html.encode(), url="http://127.0.0.1/h", fallback=Meta(author="A B"))
    assert "Temperatures in Seville did not fall below 31 degrees" in page.text
    assert page.meta.published is None
    assert page.meta.author == "A B"
    assert ("publication date dropped" in caplog.text) is warned
