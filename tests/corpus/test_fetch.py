"""Bounded fetching and the address guard, against the news site on loopback."""

from __future__ import annotations

import threading
import time

import pytest

import qa.corpus.fetch
from qa.core.cancel import Abandoned, abandon_when
from qa.corpus.fetch import USER_AGENT, BlockedAddress, FetchError, FetchLimits, fetch, is_public
from tests.news_site import NewsSite

OPEN = FetchLimits(allow_private=True, timeout=5)


@pytest.mark.parametrize(
    ("address", "public"),
    [
        ("127.0.0.1", False),
        ("10.1.2.3", False),
        ("172.16.0.1", False),
        ("192.168.1.1", False),
        ("169.254.169.254", False),  # cloud metadata
        ("100.64.0.1", False),  # carrier-grade NAT
        ("0.0.0.0", False),
        ("224.0.0.1", False),
        ("::1", False),
        ("fe80::1%eth0", False),
        ("fc00::1", False),
        ("::ffff:127.0.0.1", False),  # IPv4-mapped loopback
        ("64:ff9b::7f00:1", False),  # NAT64 of 127.0.0.1
        ("64:ff9b::a9fe:a9fe", False),  # NAT64 of 169.254.169.254
        ("64:ff9b::808:808", True),  # NAT64 of 8.8.8.8
        ("64:ff9b:1::808:808", False),  # local-use NAT64: refused outright
        ("2002:7f00:1::1", False),  # 6to4 of 127.0.0.1
        ("2002:c0a8:101::1", False),  # 6to4 of 192.168.1.1
        ("2002:808:808::1", True),  # 6to4 of 8.8.8.8
        ("::127.0.0.1", False),  # IPv4-compatible (deprecated): refused outright
        ("::8.8.8.8", False),
        ("::ffff:0:127.0.0.1", False),  # IPv4-translated: refused outright
        ("::ffff:0:8.8.8.8", False),
        ("fec0::1", False),  # site-local (deprecated)
        ("8.8.8.8", True),
        ("2606:4700:4700::1111", True),
    ],
)
def test_is_public(address: str, public: bool) -> None:
    assert is_public(address) is public


def test_fetch_follows_redirects_and_sends_the_user_agent(news_site: NewsSite) -> None:
    got = fetch(news_site.url("/hop/2"), OPEN)
    assert got.url == news_site.url("/markets/ecb-holds-rates")
    assert got.media_type == "text/html"
    assert b"European Central Bank" in got.data
    assert news_site.user_agents == [USER_AGENT] * 4


def test_loopback_is_refused_before_any_request_by_default(news_site: NewsSite) -> None:
    with pytest.raises(BlockedAddress, match=r"127\.0\.0\.1.*QA_FETCH_ALLOW_PRIVATE"):
        fetch(news_site.url("/markets/ecb-holds-rates"), FetchLimits())
    with pytest.raises(BlockedAddress):
        fetch(f"http://localhost:{news_site.port}/markets/ecb-holds-rates", FetchLimits())
    assert news_site.paths == []


def test_a_redirect_to_a_private_address_is_refused(news_site: NewsSite, monkeypatch) -> None:
    # Pretend 127.0.0.1 is public: the first hop is fetched, its redirect to 127.0.0.2 is not.
    monkeypatch.setattr(qa.corpus.fetch, "is_public", lambda address: address == "127.0.0.1")
    with pytest.raises(BlockedAddress, match=r"127\.0\.0\.2"):
        fetch(news_site.url("/to-other-address"), FetchLimits(timeout=5))
    assert news_site.paths == ["/to-other-address"]


def test_the_connected_address_is_checked_even_when_the_dns_check_passed(
    news_site: NewsSite, monkeypatch
) -> None:
    # A second guard: were the resolved addresses not checked, the connected one still is.
    monkeypatch.setattr(qa.corpus.fetch, "_refuse_private", lambda url, addresses: None)
    with pytest.raises(BlockedAddress, match=r"127\.0\.0\.1"):
        fetch(news_site.url("/markets/ecb-holds-rates"), FetchLimits(timeout=5))
    assert news_site.paths == []


@pytest.mark.parametrize(
    ("url", "limits", "message"),
    [
        ("ftp://127.0.0.1/file", OPEN, "only http and https"),
        ("file:///etc/passwd", OPEN, "only http and https"),
        ("http://", OPEN, "no host name"),
        ("http://[::1", OPEN, "not a valid URL"),
        ("/to-ftp", OPEN, "only http and https"),
        ("/hop/9", FetchLimits(allow_private=True, max_redirects=3), "more than 3 redirects"),
        ("/big", FetchLimits(allow_private=True, max_bytes=100_000), "larger than 100,000 bytes"),
        ("/slow", FetchLimits(allow_private=True, timeout=0.5), "/slow"),
        ("/missing-story", OPEN, "HTTP 404"),
        ("http://no-such-host.invalid/", FetchLimits(timeout=5), "does not resolve"),
    ],
)
def test_fetch_refusals_name_the_url(
    news_site: NewsSite, url: str, limits: FetchLimits, message: str
) -> None:
    full = news_site.url(url) if url.startswith("/") else url
    with pytest.raises(FetchError, match=message) as caught:
        fetch(full, limits)
    assert repr(full)[1:20] in str(caught.value) or "ftp://" in str(caught.value)


def test_a_socket_error_outside_urllib3_is_a_fetch_error_naming_the_url(monkeypatch) -> None:
    def reset(*args: object, **kwargs: object) -> None:
        raise ConnectionResetError(104, "Connection reset by peer")

    monkeypatch.setattr(qa.corpus.fetch, "_request", reset)
    with pytest.raises(FetchError, match=r"'http://127\.0\.0\.1:9/a' could not be fetched"):
        fetch("http://127.0.0.1:9/a", OPEN)


@pytest.mark.parametrize("code", [301, 302, 307])
def test_redirects_are_followed_on_a_server_that_keeps_connections_alive(
    keepalive_site: NewsSite, code: int
) -> None:
    # The redirect's body must be read (or its connection dropped) before the next request.
    url = keepalive_site.url(f"/redirect?code={code}&to=/markets/ecb-holds-rates")
    got = fetch(url, OPEN)
    assert got.url == keepalive_site.url("/markets/ecb-holds-rates")
    assert b"European Central Bank" in got.data


def test_a_redirect_with_a_large_body_is_not_read_to_its_end(keepalive_site: NewsSite) -> None:
    to = "/redirect?code=302%26to=/markets/ecb-holds-rates"  # a second hop, on the same host
    url = keepalive_site.url(f"/redirect?code=301&repeat=100000&to={to}")
    got = fetch(url, FetchLimits(allow_private=True, timeout=5, max_bytes=1_000_000))
    assert b"European Central Bank" in got.data
    assert keepalive_site.paths == ["/redirect", "/redirect", "/markets/ecb-holds-rates"]


@pytest.mark.parametrize(
    "path",
    [
        "/drip?bytes=100&every=0.1",  # 100 bytes at 10 a second: every read is quick, the whole not
        "/drip?every=0.1",  # a body without end
        "/drip?bytes=100&every=0.1&headers=slow",  # even the headers a byte at a time
    ],
)
def test_a_page_that_drips_is_cut_off_at_the_fetch_timeout(news_site: NewsSite, path: str) -> None:
    # The timeout bounds the whole fetch, not each read. Without the fix the first page is read
    # to its end (4 s) and the second never ends: the fetch runs in a thread the test can leave.
    failure: list[BaseException] = []

    def run() -> None:
        try:
            fetch(news_site.url(path), FetchLimits(allow_private=True, timeout=1))
        except BaseException as err:
            failure.append(err)

    worker = threading.Thread(target=run, daemon=True)
    worker.start()
    worker.join(3 * 1 + 2)  # three times the timeout, and some slack for a busy machine
    assert not worker.is_alive(), "the fetch outlived its timeout"
    assert failure and isinstance(failure[0], FetchError), failure
    assert "within 1 s" in str(failure[0]) and "/drip" in str(failure[0])
    news_site.drips[0].wait(5)  # and the connection was closed: the site stopped sending
    assert news_site.dripping() == 0


def test_an_abandoned_fetch_stops_reading_at_once(news_site: NewsSite) -> None:
    gone = threading.Event()
    failure: list[BaseException] = []

    def run() -> None:
        with abandon_when(gone.is_set):
            try:
                fetch(news_site.url("/drip?every=0.1"), FetchLimits(allow_private=True, timeout=60))
            except BaseException as err:
                failure.append(err)

    worker = threading.Thread(target=run, daemon=True)
    worker.start()
    while not news_site.drips:
        time.sleep(0.01)
    gone.set()
    worker.join(30)  # well before its 60 s timeout
    assert not worker.is_alive(), "the abandoned fetch went on reading"
    assert failure and isinstance(failure[0], Abandoned), failure
    news_site.drips[0].wait(5)
    assert news_site.dripping() == 0
