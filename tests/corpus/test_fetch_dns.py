"""Name resolution inside the fetch: bounded by its timeout, done once per host, and the
connection made to the addresses checked (test host names answered by a fake resolver)."""

from __future__ import annotations

import socket
import ssl
import threading
import time
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest

import qa.corpus.fetch
from qa.core.cancel import Abandoned, abandon_when
from qa.corpus.fetch import FetchError, FetchLimits, fetch
from tests.fake_names import FakeNames
from tests.news_site import NewsSite

TLS = Path(__file__).resolve().parents[1] / "data" / "tls"  # a certificate for news.test


def test_a_resolver_that_does_not_answer_is_cut_off_at_the_fetch_timeout(
    news_site: NewsSite, names: FakeNames
) -> None:
    # Without the bound the fetch waits the resolver's 5 s (and holds its fetch slot so long).
    names.answers["slow.test"] = ["127.0.0.1"]
    names.slow.add("slow.test")
    url = f"http://slow.test:{news_site.port}/markets/ecb-holds-rates"
    began = time.monotonic()
    with pytest.raises(FetchError, match=r"'slow\.test' did not resolve within 0\.5 s") as caught:
        fetch(url, FetchLimits(allow_private=True, timeout=0.5))
    assert time.monotonic() - began < 3  # a bound on a hang, not a speed test
    assert "QA_FETCH_TIMEOUT" in str(caught.value) and url in str(caught.value)
    assert news_site.paths == []


def test_a_fetch_abandoned_while_its_host_resolves_stops_at_once(names: FakeNames) -> None:
    names.answers["slow.test"] = ["127.0.0.1"]
    names.slow.add("slow.test")
    gone = threading.Event()
    threading.Timer(0.2, gone.set).start()
    began = time.monotonic()
    with abandon_when(gone.is_set), pytest.raises(Abandoned):
        fetch("http://slow.test:9/a", FetchLimits(allow_private=True, timeout=60))
    assert time.monotonic() - began < 3


def test_a_rebinding_resolver_cannot_make_the_fetch_connect_to_loopback(
    news_site: NewsSite, names: FakeNames, monkeypatch: pytest.MonkeyPatch
) -> None:
    # 127.0.0.1 plays a public address here; the second answer, 127.0.0.2, is loopback. The
    # fetch must connect where the checked answer pointed: nothing reaches 127.0.0.2, not even
    # a connection that is refused once made.
    monkeypatch.setattr(qa.corpus.fetch, "is_public", lambda address: address == "127.0.0.1")
    names.answers["rebind.test"] = ["127.0.0.1", "127.0.0.2"]
    url = f"http://rebind.test:{news_site.port}/markets/ecb-holds-rates"
    with socket.create_server(("127.0.0.2", news_site.port)) as inside:
        inside.setblocking(False)
        got = fetch(url, FetchLimits(timeout=5))
        with pytest.raises(BlockingIOError):
            inside.accept()
    assert b"European Central Bank" in got.data
    assert names.calls["rebind.test"] == 1
    assert news_site.paths == ["/markets/ecb-holds-rates"]


class _Page(BaseHTTPRequestHandler):
    def log_message(self, *args: object) -> None:
        pass

    def do_GET(self) -> None:
        body = b"<html><body><p>Over TLS.</p></body></html>"
        self.send_response(200)
        self.send_header("Content-Type", "text/html")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)


@pytest.fixture
def tls_site() -> Iterator[int]:
    """An HTTPS server on 127.0.0.1 with a certificate for news.test only; its port."""
    server = ThreadingHTTPServer(("127.0.0.1", 0), _Page)
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.load_cert_chain(TLS / "news-test.crt", TLS / "news-test.key")
    server.socket = context.wrap_socket(server.socket, server_side=True)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    yield server.server_address[1]
    server.shutdown()
    server.server_close()


def test_https_still_verifies_the_host_name_not_the_address_connected(
    tls_site: int, names: FakeNames, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("SSL_CERT_FILE", str(TLS / "news-test.crt"))  # trust the test certificate
    names.answers["news.test"] = ["127.0.0.1"]
    names.answers["other.test"] = ["127.0.0.1"]
    limits = FetchLimits(allow_private=True, timeout=5)
    got = fetch(f"https://news.test:{tls_site}/", limits)
    assert got.data.endswith(b"<p>Over TLS.</p></body></html>")
    for host in ("other.test", "127.0.0.1"):  # the same server, not the name its certificate names
        with pytest.raises(FetchError, match=r"(Hostname|IP address) mismatch"):
            fetch(f"https://{host}:{tls_site}/", limits)
