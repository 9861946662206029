"""News pages and feeds: the article in a web page, with its metadata, and the links of a feed.

trafilatura finds a page's main text (leaving out navigation, cookie banners, related links,
comments, footers) and its metadata: headline, author, publication date (htmldate), site name
and canonical URL. Feeds are read with feedparser, which takes RSS 0.9x/1.0/2.0 and Atom alike
and gives each entry's link, title, date and author; the linked pages are then fetched and
extracted one by one. Both libraries are imported on first use: they are not needed to answer.
"""

from __future__ import annotations

import datetime
import io
import logging
import time
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit

from qa.corpus.documents import NO_META, ArticleError, Meta, iso_date
from qa.corpus.encoding import decode_page
from qa.corpus.urls import same_site

log = logging.getLogger("qa.news")

HTML_TYPES = frozenset({"text/html", "application/xhtml+xml"})
FEED_TYPES = frozenset(
    {
        "application/rss+xml",
        "application/atom+xml",
        "application/rdf+xml",
        "application/xml",
        "text/xml",
    }
)

MIN_PARAGRAPH_WORDS = 5


@dataclass(frozen=True, slots=True)
class NewsPage:
    """The article of one page: its metadata and its text, a paragraph per line."""

    meta: Meta
    text: str


@dataclass(frozen=True, slots=True)
class FeedEntry:
    """One item of a feed: the article's link and what the feed says about it."""

    url: str
    title: str | None
    published: str | None
    author: str | None


@dataclass(frozen=True, slots=True)
class Feed:
    """A parsed feed: its title (the outlet, usually) and its entries in feed order."""

    title: str | None
    entries: list[FeedEntry]


def looks_like_html(data: bytes) -> bool:
    """True when the start of `data` is an HTML document (for pages served without a type)."""
    head = data[:2048].lstrip().lower()
    return head.startswith((b"<!doctype html", b"<html")) or b"<html" in head


def extract_page(
    html: bytes | str,
    *,
    url: str | None = None,
    name: str | None = None,
    fallback: Meta = NO_META,
    charset: str | None = None,
) -> NewsPage:
    """The article in an HTML page and its metadata, or ArticleError naming `name` (or `url`).

    `fallback` fills what the page does not say (e.g. a feed entry's date); the URL is the
    page's canonical URL when it is on the registrable domain of `url` (where the page was
    fetched: a page elsewhere cannot claim another site's article), else `url`. The page's
    headline, when it is also the text's first line, is kept out of the text: it is the
    title, not a sentence of the article. Bytes are decoded by `encoding.decode_page`,
    `charset` being what the HTTP header declared. A date that cannot be read is dropped.
    """
    import trafilatura
    import trafilatura.metadata

    label = repr(name or url or "page")
    if isinstance(html, bytes):
        html = decode_page(html, charset) or html
    # trafilatura calls htmldate by this module-level name: see _find_date_or_none.
    trafilatura.metadata.find_date = _find_date_or_none  # type: ignore[attr-defined]
    try:
        found = trafilatura.bare_extraction(
            html,
            url=url,
            with_metadata=True,
            include_comments=False,
            include_tables=False,
            favor_precision=True,
            # Only dates the page states (metadata, <time>, the URL): the extensive search
            # also guesses from any number that looks like a year ("2025-13-45" -> 2025-01-01).
            date_extraction_params={
                "original_date": True,
                "extensive_search": False,
                "max_date": datetime.date.today().isoformat(),
            },
        )
    except Exception as err:  # lxml or a date parser on a malformed page
        raise ArticleError(f"{label}: the page could not be read ({err})") from None
    text = (getattr(found, "text", None) or "").strip() if found is not None else ""
    if not text:
        raise ArticleError(f"{label}: no article text found in the page")
    title = _clean(getattr(found, "title", None))
    lines = [line.strip() for line in text.splitlines() if line.strip()]
    if title and lines and _same_words(lines[0], title):
        lines = lines[1:]
    # A page with no prose (a menu, a login wall) leaves only stray words: not an article.
    if not any(len(line.split()) >= MIN_PARAGRAPH_WORDS for line in lines):
        raise ArticleError(f"{label}: no article text found in the page")
    page_url = _clean(getattr(found, "url", None))
    published = iso_date(getattr(found, "date", None) or "")
    meta = Meta(
        title=title or fallback.title,
        url=page_url if _may_claim(page_url, url) else (url or fallback.url),
        published=published or fallback.published,
        source=_clean(getattr(found, "sitename", None))
        or fallback.source
        or _clean(getattr(found, "hostname", None)),
        author=_clean(getattr(found, "author", None)) or fallback.author,
    )
    return NewsPage(meta, "\n".join(lines) + "\n")


def parse_feed(data: bytes, url: str) -> Feed:
    """The entries of an RSS or Atom feed (links resolved against `url`), or ArticleError."""
    import feedparser

    # A stream, never a string: given a string, feedparser would fetch it if it looks like a URL.
    parsed: Any = feedparser.parse(io.BytesIO(data), response_headers={"content-location": url})
    if not parsed.get("version") and not parsed.entries:
        reason = parsed.get("bozo_exception") or "not RSS or Atom"
        raise ArticleError(f"{url!r} is not a readable RSS or Atom feed ({reason})")
    entries = []
    for entry in parsed.entries:
        link = entry.get("link")
        if not link or not _is_web(link):
            continue
        entries.append(
            FeedEntry(
                url=link,
                title=_clean(entry.get("title")),
                published=_entry_date(entry),
                author=_clean(entry.get("author")),
            )
        )
    return Feed(_clean(parsed.feed.get("title")), entries)


def _find_date_or_none(*args: Any, **kwargs: Any) -> str | None:
    """htmldate's `find_date`, or None (and a warning) where it fails: it raises on some
    malformed dates (an offset of 24 hours or more), and trafilatura then drops the whole page
    as unreadable; a date is metadata, so a bad one is dropped and the article kept."""
    from htmldate import find_date

    try:
        return find_date(*args, **kwargs)
    except (ValueError, TypeError, OverflowError) as err:
        log.warning("publication date dropped: the page's date could not be read (%s)", err)
        return None


def _entry_date(entry: Any) -> str | None:
    for key in ("published_parsed", "updated_parsed"):
        value = entry.get(key)
        if value:
            return time.strftime("%Y-%m-%d", value)
    return None


def _may_claim(declared: str | None, fetched: str | None) -> bool:
    """True when a page fetched from `fetched` may name `declared` as its canonical URL: it is
    on the same registrable domain (or the page was not fetched: an upload names itself)."""
    if not declared or not _is_web(declared):
        return False
    return fetched is None or same_site(declared, fetched)


def _is_web(url: str) -> bool:
    return urlsplit(url).scheme.lower() in ("http", "https")


def _clean(value: object) -> str | None:
    if not isinstance(value, str):
        return None
    text = " ".join(value.split())
    return text or None


def _same_words(a: str, b: str) -> bool:
    return a.split() == b.split() or a.casefold().strip(" .") == b.casefold().strip(" .")
