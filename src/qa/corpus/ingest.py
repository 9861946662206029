"""Web pages and feeds into articles ready to store: fetch (bounded), extract, deduplicate.

The server fetches only public addresses unless QA_FETCH_ALLOW_PRIVATE is set; the CLI, run by
the operator, may fetch anything the operator names (`limits(settings, allow_private=True)`).
A feed's links are what the feed's author names, not the operator: they reach non-public
addresses only on the feed's own host.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field, replace
from typing import TYPE_CHECKING

from qa.corpus.documents import NO_META, ArticleError, Meta
from qa.corpus.fetch import FetchError, FetchLimits, fetch, origin
from qa.corpus.news import (
    FEED_TYPES,
    HTML_TYPES,
    Feed,
    extract_page,
    looks_like_html,
    parse_feed,
)
from qa.corpus.seeds import ArticleFile, TooLarge, article_from_page
from qa.corpus.urls import canonical_key

if TYPE_CHECKING:
    from qa.core.settings import Settings
    from qa.corpus.documents import Document

_PAGE_ACCEPT = "text/html,application/xhtml+xml;q=0.9,*/*;q=0.1"
_FEED_ACCEPT = "application/rss+xml,application/atom+xml,application/xml;q=0.9,text/xml;q=0.9"


def limits(settings: Settings, *, allow_private: bool | None = None) -> FetchLimits:
    """Fetch bounds from the settings; `allow_private` overrides QA_FETCH_ALLOW_PRIVATE."""
    return FetchLimits(
        max_bytes=settings.fetch_max_bytes,
        timeout=settings.fetch_timeout,
        max_redirects=settings.fetch_max_redirects,
        allow_private=settings.fetch_allow_private if allow_private is None else allow_private,
    )


def article_from_url(
    url: str,
    bounds: FetchLimits,
    *,
    doc_id: str | None,
    max_bytes: int,
    fallback: Meta = NO_META,
) -> ArticleFile:
    """Fetch the page at `url` and make its article (FetchError / ArticleError name the URL)."""
    fetched = fetch(url, bounds, accept=_PAGE_ACCEPT)
    media = fetched.media_type
    if media not in HTML_TYPES and not (
        media in ("", "application/octet-stream", "text/plain") and looks_like_html(fetched.data)
    ):
        raise FetchError(f"{url!r} is not an HTML page (its type is {media or 'not given'})")
    page = extract_page(
        fetched.data, url=fetched.url, name=url, fallback=fallback, charset=fetched.charset
    )
    return article_from_page(page, doc_id=doc_id, max_bytes=max_bytes)


def read_feed(url: str, bounds: FetchLimits) -> Feed:
    """Fetch and parse the RSS or Atom feed at `url`."""
    feed, _ = poll_feed(url, bounds)
    assert feed is not None  # an unconditional request never gets a 304
    return feed


@dataclass(frozen=True, slots=True)
class Validators:
    """What a server said identifies a feed's version: sent back, it answers 304 if unchanged."""

    etag: str | None = None
    last_modified: str | None = None

    def headers(self) -> dict[str, str]:
        """The conditional request's headers (none without validators)."""
        headers = {}
        if self.etag:
            headers["If-None-Match"] = self.etag
        if self.last_modified:
            headers["If-Modified-Since"] = self.last_modified
        return headers


def poll_feed(
    url: str, bounds: FetchLimits, since: Validators | None = None
) -> tuple[Feed | None, Validators]:
    """The feed at `url`, or None when it has not changed `since` (304), with its validators."""
    conditional = since.headers() if since is not None else None
    fetched = fetch(url, bounds, accept=_FEED_ACCEPT, conditional=conditional or None)
    validators = Validators(fetched.etag, fetched.last_modified)
    if fetched.not_modified:  # a 304 may leave out what did not change
        before = since or Validators()
        return None, Validators(
            validators.etag or before.etag, validators.last_modified or before.last_modified
        )
    if fetched.media_type in HTML_TYPES:
        raise FetchError(f"{url!r} is an HTML page, not an RSS or Atom feed")
    if fetched.media_type not in FEED_TYPES and not fetched.data.lstrip()[:1] == b"<":
        raise FetchError(f"{url!r} is not an RSS or Atom feed (its type is {fetched.media_type})")
    return parse_feed(fetched.data, fetched.url), validators


@dataclass
class FeedImport:
    """What reading one feed did: the doc_ids of the articles it stored, the links already
    stored, and failures (link, reason)."""

    feed: str
    added: list[str] = field(default_factory=list)
    present: list[str] = field(default_factory=list)
    failed: list[tuple[str, str]] = field(default_factory=list)


def text_key(text: str) -> str:
    """The key of an article's text: a hash of its words (spacing and line ends aside)."""
    words = " ".join(text.split())
    return "text:" + hashlib.sha256(words.encode("utf-8", "surrogatepass")).hexdigest()


def article_keys(document: Document) -> set[str]:
    """What makes two stored articles one: the canonical key of its URL, and its text's key."""
    keys = {text_key(document.text)}
    if document.url:
        keys.add(canonical_key(document.url))
    return keys


def known_keys(documents: Iterable[Document]) -> set[str]:
    """`article_keys` of every stored article (for deduplication)."""
    return {key for d in documents for key in article_keys(d)}


def same_article(documents: Iterable[Document], document: Document) -> str | None:
    """The doc_id of a stored article other than `document`'s own that has its canonical URL
    or its text."""
    keys = article_keys(document)
    return next(
        (d.doc_id for d in documents if d.doc_id != document.doc_id and article_keys(d) & keys),
        None,
    )


def import_feed(
    url: str,
    bounds: FetchLimits,
    known: set[str],
    *,
    max_bytes: int,
    store: Callable[[ArticleFile], object],
    progress: Callable[[str], None] = lambda _line: None,
) -> FeedImport:
    """Read the feed at `url` and `import_entries` it. Raises FetchError / ArticleError when
    the feed itself cannot be read."""
    feed = read_feed(url, bounds)
    return import_entries(
        url, feed, bounds, known, max_bytes=max_bytes, store=store, progress=progress
    )


def import_entries(
    url: str,
    feed: Feed,
    bounds: FetchLimits,
    known: set[str],
    *,
    max_bytes: int,
    store: Callable[[ArticleFile], object],
    progress: Callable[[str], None] = lambda _line: None,
) -> FeedImport:
    """Fetch, extract and `store` each article of `feed` (read from `url`) whose canonical URL
    or text is not in `known` (`known_keys`, which gains them), one at a time: what was stored
    stays stored if a later entry never comes, and is not fetched again next time. An entry
    that fails is reported and the others still go through; an error of `store` is raised."""
    result = FeedImport(url)
    if bounds.allow_private:
        bounds = replace(bounds, private_origins=frozenset({origin(url)}))
    for entry in feed.entries:
        if canonical_key(entry.url) in known:
            result.present.append(entry.url)
            progress(f"already present  {entry.url}")
            continue
        fallback = Meta(entry.title, entry.url, entry.published, feed.title, entry.author)
        try:
            article = article_from_url(
                entry.url, bounds, doc_id=None, max_bytes=max_bytes, fallback=fallback
            )
        except (ArticleError, TooLarge) as err:
            result.failed.append((entry.url, str(err)))
            progress(f"failed           {entry.url}: {err}")
            continue
        keys = {canonical_key(entry.url), *article_keys(article.document)}
        if keys & known:  # the link redirected to, or its text is, a stored article
            result.present.append(entry.url)
            progress(f"already present  {entry.url}")
            continue
        progress(f"new              {article.doc_id}: {article.document.title}")
        store(article)
        known.update(keys)
        result.added.append(article.doc_id)
    return result
