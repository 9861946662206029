"""Canonical keys of news URLs and the registrable domain of a page."""

from __future__ import annotations

import pytest

from qa.corpus.urls import canonical_key, registrable_domain


def test_canonical_key_drops_tracking_parameters_fragment_and_host_case() -> None:
    assert canonical_key("http://News.Example.com:80/a?utm_source=rss&id=3#top") == canonical_key(
        "http://news.example.com/a?id=3"
    )
    assert canonical_key("http://a.example/x") != canonical_key("http://a.example/y")


@pytest.mark.parametrize("name", ["story", "storyid", "t", "n", "id", "p"])
def test_canonical_key_keeps_the_parameters_that_name_the_article(name: str) -> None:
    one = canonical_key(f"http://news.example.com/article/story?{name}=b1")
    two = canonical_key(f"http://news.example.com/article/story?{name}=b2")
    assert one != two


@pytest.mark.parametrize(
    "tracker",
    [
        *("utm_source=rss", "UTM_Campaign=x", "fbclid=1", "gclid=2", "mc_cid=3", "mc_eid=4"),
        *("igshid=5", "ref_src=twsrc", "_ga=2.1", "msclkid=6"),
    ],
)
def test_canonical_key_drops_tracking_parameters(tracker: str) -> None:
    plain = canonical_key("http://news.example.com/a?story=b1")
    assert canonical_key(f"http://news.example.com/a?story=b1&{tracker}") == plain
    assert canonical_key(f"http://news.example.com/a?{tracker}&story=b1#comments") == plain


@pytest.mark.parametrize(
    ("url", "domain"),
    [
        ("https://www.reuters.com/world/x", "reuters.com"),
        ("https://www.bbc.co.uk/news/x", "bbc.co.uk"),
        ("https://m.bbc.co.uk/news/x", "bbc.co.uk"),
        ("https://evil.co.uk/x", "evil.co.uk"),
        ("https://a.b.github.io/x", "b.github.io"),  # a public suffix run by a company
        ("http://127.0.0.1:8765/x", "127.0.0.1"),
        ("http://[::1]/x", "::1"),
        ("http://localhost/x", "localhost"),
        ("/relative/path", None),
    ],
)
def test_registrable_domain(url: str, domain: str | None) -> None:
    assert registrable_domain(url) == domain
