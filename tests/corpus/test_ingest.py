"""Pages and feeds from the news site on loopback into articles, deduplicated by URL."""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

import pytest

from qa.corpus.documents import ArticleError, read_article
from qa.corpus.fetch import FetchError, FetchLimits
from qa.corpus.ingest import article_from_url, import_feed, known_keys
from qa.corpus.seeds import ArticleFile, TooLarge, write_seed
from tests.news_site import ARTICLE_SENTENCES, BOILERPLATE, LATIN1_SENTENCE, NewsSite

OPEN = FetchLimits(allow_private=True, timeout=5)
MB = 1024 * 1024


@dataclass
class Imported:
    """What `import_feed` stored, with what it reported."""

    articles: list[ArticleFile]
    present: list[str]
    failed: list[tuple[str, str]]


def imported(url: str, bounds: FetchLimits, known: set[str], **kwargs: Any) -> Imported:
    stored: list[ArticleFile] = []
    found = import_feed(url, bounds, known, store=stored.append, **kwargs)
    assert found.added == [a.doc_id for a in stored]
    return Imported(stored, found.present, found.failed)


def test_article_from_url_is_front_matter_and_the_article_text(news_site: NewsSite, tmp_path):
    article = article_from_url(
        news_site.url("/2025/03/12/harbour-bridge-reopens"), OPEN, doc_id=None, max_bytes=MB
    )
    assert article.suffix == ".md"
    stored = article.data.decode()
    # The page's canonical URL is on news.example.com, not where it was fetched: not taken.
    assert stored.startswith(
        "---\ntitle: Harbour bridge reopens after two-year repair\n"
        f"url: {news_site.url('/2025/03/12/harbour-bridge-reopens')}\n"
        "published: 2025-03-12\nsource: The Coastal Herald\nauthor: Maria Lindqvist\n---\n\n"
    )
    doc = article.document
    assert doc.doc_id.startswith("harbour-bridge-reopens-after-two-year-")
    assert doc.text == stored.split("---\n\n", 1)[1]  # the body, without the front matter
    assert not any(w in doc.text for w in ("title:", "url:", "published:"))
    for sentence in ARTICLE_SENTENCES["harbour-bridge.html"]:
        assert sentence in doc.text
    # Stored and read back, the file gives the same document.
    seeds = tmp_path / "seeds"
    seeds.mkdir()
    assert read_article(write_seed(seeds, article)) == doc


def test_the_same_canonical_url_gives_the_same_doc_id(news_site: NewsSite) -> None:
    one = article_from_url(news_site.url("/hop/0"), OPEN, doc_id=None, max_bytes=MB)
    two = article_from_url(
        news_site.url("/markets/ecb-holds-rates"), OPEN, doc_id=None, max_bytes=MB
    )
    assert one.doc_id == two.doc_id


@pytest.mark.parametrize(
    ("path", "message"),
    [
        ("/plain.txt", "is not an HTML page (its type is text/plain)"),
        ("/photo.png", "is not an HTML page (its type is image/png)"),
        ("/empty", "no article text found"),
        ("/missing-story", "HTTP 404"),
        ("/rss.xml", "is not an HTML page"),
    ],
)
def test_pages_that_are_not_articles_are_refused_naming_the_url(
    news_site: NewsSite, path: str, message: str
) -> None:
    url = news_site.url(path)
    with pytest.raises(ArticleError, match=re.escape(message)) as caught:
        article_from_url(url, OPEN, doc_id=None, max_bytes=MB)
    assert url in str(caught.value)


def test_an_article_over_the_article_limit_is_too_large(news_site: NewsSite) -> None:
    with pytest.raises(TooLarge):
        article_from_url(
            news_site.url("/markets/ecb-holds-rates"), OPEN, doc_id=None, max_bytes=200
        )


@pytest.mark.parametrize("feed", ["/rss.xml", "/atom.xml"])
def test_a_feed_gives_its_new_articles_and_reports_failures(news_site: NewsSite, feed: str):
    lines: list[str] = []
    known: set[str] = set()
    found = imported(news_site.url(feed), OPEN, known, max_bytes=MB, progress=lines.append)
    titles = sorted(a.document.title for a in found.articles)
    if feed == "/rss.xml":
        assert titles == [
            "Harbour bridge reopens after two-year repair",
            "Spain records its hottest June night",
        ]
        assert [url for url, _ in found.failed] == [news_site.url("/missing-story")]
        assert "HTTP 404" in found.failed[0][1]
    else:
        assert titles == [
            "ECB holds interest rates steady as inflation cools",
            "Spain records its hottest June night",
        ]
        assert found.failed == []
    assert len(lines) == len(found.articles) + len(found.failed)
    for article in found.articles:
        assert not any(phrase in article.document.text for phrase in BOILERPLATE)
    # The same feed again, with what it added known: nothing new, nothing refetched that the
    # feed links to directly.
    again = imported(news_site.url(feed), OPEN, known, max_bytes=MB)
    assert again.articles == []
    assert len(again.present) == len(found.articles)


def test_a_feed_entry_already_stored_is_present_and_not_fetched(news_site: NewsSite) -> None:
    heat = article_from_url(
        news_site.url("/climate/hottest-june-night"), OPEN, doc_id=None, max_bytes=MB
    )
    known = known_keys([heat.document])
    news_site.paths.clear()
    found = imported(news_site.url("/atom.xml"), OPEN, known, max_bytes=MB)
    assert [a.document.title for a in found.articles] == [
        "ECB holds interest rates steady as inflation cools"
    ]
    assert found.present == [news_site.url("/climate/hottest-june-night")]
    assert "/climate/hottest-june-night" not in news_site.paths


def test_feed_dates_fill_in_for_pages_without_one_and_sources_from_the_page(news_site):
    found = imported(news_site.url("/atom.xml"), OPEN, set(), max_bytes=MB)
    ecb = next(a.document for a in found.articles if a.document.title.startswith("ECB"))
    assert (ecb.published, ecb.source, ecb.author) == ("2025-01-30", "Daily Ledger", "Jonas Weber")


@pytest.mark.parametrize(
    ("path", "message"),
    [("/2025/03/12/harbour-bridge-reopens", "is an HTML page, not an RSS or Atom feed")],
)
def test_a_page_is_not_a_feed(news_site: NewsSite, path: str, message: str) -> None:
    with pytest.raises(FetchError, match=message):
        imported(news_site.url(path), OPEN, set(), max_bytes=MB)


def test_articles_told_apart_by_a_query_parameter_are_all_added(news_site: NewsSite) -> None:
    found = imported(news_site.url("/stories.xml"), OPEN, set(), max_bytes=MB)
    assert sorted(a.document.title for a in found.articles) == [
        "Story 41",
        "Story 42",
        "Story b1",
        "Story c3",
    ]
    assert (found.present, found.failed) == ([], [])


def test_a_feed_link_to_a_stored_text_is_present_whatever_its_url(news_site: NewsSite) -> None:
    # Another URL (a parameter the site ignores), the same article: the text hash says so.
    page = article_from_url(
        news_site.url("/article/story?story=41&page=2"), OPEN, doc_id=None, max_bytes=MB
    )
    found = imported(news_site.url("/stories.xml"), OPEN, known_keys([page.document]), max_bytes=MB)
    assert found.present == [news_site.url("/article/story?t=41")]
    assert len(found.articles) == 3


def test_a_feeds_links_reach_private_addresses_only_on_the_feeds_own_host(
    news_site: NewsSite,
) -> None:
    # The operator allowed private addresses for the feed they named, not for whatever
    # addresses its content names.
    found = imported(news_site.url("/mixed.xml"), OPEN, set(), max_bytes=MB)
    assert [a.document.title for a in found.articles] == ["Spain records its hottest June night"]
    ((link, reason),) = found.failed
    assert link == f"http://127.0.0.2:{news_site.port}/markets/ecb-holds-rates"
    assert "non-public address" in reason


def test_the_http_charset_of_a_page_is_honoured(news_site: NewsSite) -> None:
    article = article_from_url(news_site.url("/latin1"), OPEN, doc_id=None, max_bytes=MB)
    assert article.document.title == "Café reopens"
    assert LATIN1_SENTENCE in article.document.text
