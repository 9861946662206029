"""A small news site on loopback for the ingestion tests: article pages wrapped in navigation,
cookie banners, related links and comments, an RSS and an Atom feed, and pages that must be
refused (not HTML, empty, too large, too slow, redirect loops, redirects to other addresses),
and pages that drip: a byte at a time, their body or even their headers (`/drip`).

`news_site` answers HTTP/1.0, one connection per request; `keepalive_site` answers HTTP/1.1 and
keeps connections open, as most real servers do (a client that reuses a connection without
reading a response to its end breaks only there)."""

from __future__ import annotations

import email.utils
import hashlib
import itertools
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from urllib.parse import parse_qs

import pytest

DATA = Path(__file__).resolve().parent / "data" / "news"

PAGES = {
    "/2025/03/12/harbour-bridge-reopens": "harbour-bridge.html",
    "/markets/ecb-holds-rates": "ecb-rates.html",
    "/climate/hottest-june-night": "heatwave.html",
}
FEEDS = {"/rss.xml": ("rss.xml", "application/rss+xml"), "/atom.xml": ("atom.xml", "")}

# What each article says, and what its page says around it but is not the article.
ARTICLE_SENTENCES = {
    "harbour-bridge.html": [
        "The harbour bridge reopened to traffic on Wednesday morning after a repair that took "
        "more than two years and cost 84 million euros.",
        "Engineers replaced all 312 cables that hold the deck, and the footpath on the eastern "
        "side was widened to four metres for cyclists.",
        "The mayor thanked residents for their patience and said the bridge would be lit in "
        "blue every evening this week to mark the reopening.",
    ],
    "ecb-rates.html": [
        "The European Central Bank kept its deposit rate at 2.75 percent on Thursday, saying "
        "inflation in the euro area had fallen to 2.4 percent in December.",
        "Government bond yields in Germany fell slightly after the announcement, while the euro "
        "traded little changed against the dollar.",
    ],
    "heatwave.html": [
        "Temperatures in Seville did not fall below 31 degrees on Friday night, the highest "
        "minimum ever recorded in Spain in June.",
    ],
}
BOILERPLATE = [
    "cookie",
    "Cookies",
    "Subscribe",
    "Related stories",
    "Tram line extension",
    "My commute has been a nightmare",
    "built a tunnel",
    "All rights reserved",
    "Sign in",
    "Advertisement",
    "Switch your energy provider",
    "Oil prices slide",
    "savers are the only winners",
    "non-decision",
    "ten best beaches",
    "Front page",
]
# Pages told apart only by a query parameter (`/article/story?story=b1`), and a feed of four.
STORY_PARAMETERS = ("story", "storyid", "t", "n")
STORY_FEED = ("story=b1", "storyid=c3", "t=41", "n=42")
SQUATTED = "https://www.reuters.com/world/europe/harbour-bridge-reopens-2025-03-12/"
LATIN1_SENTENCE = (
    "The café on the corner of the square reopened on Monday after a renovation that took "
    "eight months, and its crème brûlée is still on the menu."
)


def story_page(story: str, canonical: str | None = None) -> str:
    """An article page whose text names `story` (and which may declare a canonical URL)."""
    link = f'<link rel="canonical" href="{canonical}">' if canonical else ""
    return (
        f'<!DOCTYPE html><html lang="en"><head><meta charset="utf-8"><title>Story {story}</title>'
        f"{link}</head><body><article><h1>Story {story}</h1>"
        f"<p>This is the full report of story {story}, one of several stories served at the "
        "same page address.</p>"
        f"<p>Each story has its own number in the query string, and a reader who follows the "
        f"link of story {story} sees only this text.</p></article></body></html>"
    )


def _latin1_page() -> bytes:
    # No <meta charset>: only the Content-Type header says what the bytes are.
    return (
        "<!DOCTYPE html><html><head><title>Café reopens</title></head><body><article>"
        f"<h1>Café reopens</h1><p>{LATIN1_SENTENCE}</p><p>Its owner, José Müller, said the "
        "prices would not change before the summer.</p></article></body></html>"
    ).encode("latin-1")


@dataclass
class NewsSite:
    """The running site: its base URL and the User-Agent of every request it got."""

    base: str
    port: int
    user_agents: list[str] = field(default_factory=list)
    paths: list[str] = field(default_factory=list)
    # One event per /drip request, set once it has stopped sending (done, or its client gone).
    drips: list[threading.Event] = field(default_factory=list)
    # The stories of /live.xml, a feed that answers conditional requests (ETag, Last-Modified).
    live: list[str] = field(default_factory=list)
    not_modified: int = 0  # 304s sent
    # Requests (path and query) held until their event is set: (arrived, release).
    holds: dict[str, tuple[threading.Event, threading.Event]] = field(default_factory=dict)

    def url(self, path: str) -> str:
        return self.base + path

    def hold(self, target: str) -> tuple[threading.Event, threading.Event]:
        """Hold requests for `target` (path and query): set when one arrives, set to answer."""
        self.holds[target] = (threading.Event(), threading.Event())
        return self.holds[target]

    def dripping(self) -> int:
        """How many /drip responses are still being sent."""
        return sum(not ended.is_set() for ended in list(self.drips))


def _handler(site: NewsSite, protocol: str) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        def log_message(self, *args: object) -> None:
            pass

        def _send(self, status: int, body: bytes, kind: str, **headers: str) -> None:
            self.send_response(status)
            if kind:
                self.send_header("Content-Type", kind)
            self.send_header("Content-Length", str(len(body)))
            for name, value in headers.items():
                self.send_header(name.replace("_", "-"), value)
            self.end_headers()
            self.wfile.write(body)

        def do_GET(self) -> None:
            site.user_agents.append(self.headers.get("User-Agent", ""))
            path, _, query = self.path.partition("?")
            site.paths.append(path)
            if self.path in site.holds:
                arrived, release = site.holds[self.path]
                arrived.set()
                release.wait(30)
            if not self._more(path, parse_qs(query)):
                self._basic(path)

        def _more(self, path: str, query: dict[str, list[str]]) -> bool:
            """The pages of the later tests; False when `path` is none of them."""
            if path == "/redirect":  # a redirect with a body, as real servers send
                code = int(query.get("code", ["302"])[0])
                body = b"<html><body>Moved</body></html>" * int(query.get("repeat", ["1"])[0])
                self._send(code, body, "text/html", Location=query["to"][0])
            elif path == "/article/story":
                story = next((query[k][0] for k in STORY_PARAMETERS if k in query), "none")
                self._send(200, story_page(story).encode(), "text/html; charset=utf-8")
            elif path == "/stories.xml":
                self._send(200, _rss(site, [f"/article/story?{q}" for q in STORY_FEED]), "")
            elif path == "/squat":
                self._send(200, story_page("s1", SQUATTED).encode(), "text/html")
            elif path == "/latin1":
                self._send(200, _latin1_page(), "text/html; charset=iso-8859-1")
            elif path == "/drip":
                self._drip(query)
            elif path == "/live.xml":
                self._live()
            elif path == "/mixed.xml":  # a link to this host, and one to another private one
                links = [site.url("/climate/hottest-june-night")]
                links.append(f"http://127.0.0.2:{site.port}/markets/ecb-holds-rates")
                self._send(200, _rss(site, links), "application/rss+xml")
            else:
                return False
            return True

        def _live(self) -> None:
            """/live.xml: an RSS feed of `site.live`, 304 to a request that has its ETag or
            asks If-Modified-Since its Last-Modified (the time of its first story count)."""
            body = _rss(site, [f"/article/story?story={s}" for s in site.live])
            etag = '"' + hashlib.sha256(body).hexdigest()[:16] + '"'
            modified = email.utils.formatdate(1_700_000_000 + 3600 * len(site.live), usegmt=True)
            if self.headers.get("If-None-Match") == etag or (
                self.headers.get("If-None-Match") is None
                and self.headers.get("If-Modified-Since") == modified
            ):
                site.not_modified += 1
                self.send_response(304)
                self.send_header("ETag", etag)
                self.end_headers()
                return
            self._send(200, body, "application/rss+xml", ETag=etag, Last_Modified=modified)

        def _drip(self, query: dict[str, list[str]]) -> None:
            """A byte every `every` seconds: `bytes` of body (0: without end), after headers
            sent the same way when `headers=slow`."""
            ended = threading.Event()
            site.drips.append(ended)
            every = float(query.get("every", ["0.2"])[0])
            total = int(query.get("bytes", ["0"])[0])
            head = "HTTP/1.0 200 OK\r\nContent-Type: text/html\r\n"
            head += f"Content-Length: {total}\r\n\r\n" if total else "\r\n"
            slow = query.get("headers", [""])[0] == "slow"
            try:
                if not slow:
                    self.wfile.write(head.encode())
                body = itertools.repeat(b"<", total) if total else itertools.repeat(b"<")
                slow_head = (bytes([b]) for b in head.encode()) if slow else ()
                for byte in itertools.chain(slow_head, body):
                    self.wfile.write(byte)
                    self.wfile.flush()
                    time.sleep(every)
            except OSError:  # the client went away
                pass
            finally:
                self.close_connection = True
                ended.set()

        def _basic(self, path: str) -> None:
            if path in PAGES:
                body = (DATA / PAGES[path]).read_bytes()
                self._send(200, body, "text/html; charset=utf-8")
            elif path in FEEDS:
                name, kind = FEEDS[path]
                text = (DATA / name).read_text(encoding="utf-8")
                host = f"127.0.0.1:{site.port}"
                self._send(200, text.replace("HOST", host).encode(), kind)
            elif path == "/plain.txt":
                self._send(200, b"Just some text, not a page.", "text/plain")
            elif path == "/photo.png":
                self._send(200, b"\x89PNG\r\n\x1a\n" + bytes(64), "image/png")
            elif path == "/empty":
                self._send(
                    200, b"<html><head></head><body><nav>Home</nav></body></html>", "text/html"
                )
            elif path == "/big":
                body = b"<html><body><p>" + b"Long story. " * 200_000 + b"</p></body></html>"
                self._send(200, body, "text/html")
            elif path == "/slow":
                self.send_response(200)
                self.send_header("Content-Type", "text/html")
                self.send_header("Content-Length", "13")
                self.end_headers()
                time.sleep(2)
                self.wfile.write(b"<html></html>")
            elif path.startswith("/hop/"):
                left = int(path.rsplit("/", 1)[1])
                target = f"/hop/{left - 1}" if left > 0 else "/markets/ecb-holds-rates"
                self._send(302, b"", "", Location=target)
            elif path == "/to-other-address":
                target = f"http://127.0.0.2:{site.port}/markets/ecb-holds-rates"
                self._send(302, b"", "", Location=target)
            elif path == "/to-ftp":
                self._send(302, b"", "", Location="ftp://127.0.0.1/file")
            else:
                self._send(404, b"<html><body>Not found</body></html>", "text/html")

    Handler.protocol_version = protocol
    return Handler


def _rss(site: NewsSite, links: list[str]) -> bytes:
    items = "".join(
        f"<item><title>Item {n}</title><link>{link if '//' in link else site.url(link)}</link>"
        "</item>"
        for n, link in enumerate(links)
    )
    return (
        f'<?xml version="1.0"?><rss version="2.0"><channel><title>Stories</title>{items}'
        "</channel></rss>"
    ).encode()


@pytest.fixture
def news_site() -> Iterator[NewsSite]:
    """The site on a free port of 127.0.0.1, one connection per request (HTTP/1.0)."""
    yield from _serve("HTTP/1.0")


@pytest.fixture
def keepalive_site() -> Iterator[NewsSite]:
    """The same site answering HTTP/1.1 and keeping connections alive."""
    yield from _serve("HTTP/1.1")


def _serve(protocol: str) -> Iterator[NewsSite]:
    server = ThreadingHTTPServer(("127.0.0.1", 0), BaseHTTPRequestHandler)
    port = server.server_address[1]
    site = NewsSite(f"http://127.0.0.1:{port}", port)
    server.RequestHandlerClass = _handler(site, protocol)
    server.daemon_threads = True
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield site
    finally:
        server.shutdown()
        server.server_close()
        thread.join(5)
