"""Fetch a web page or feed with bounds on size, time and redirects, and (for the server) only
from public addresses.

Fetching a URL a client sent is a request the server makes on the client's behalf, so by default
it must not reach the server's own network: each host is resolved once per fetch and every
address checked, and the connection is made to those addresses, not to the name again (so a DNS
answer that changes between check and connect gains nothing); the socket connected is checked
too. Redirects are followed here, one at a time, so each hop's scheme and address are checked.

The timeout bounds the whole fetch (name resolution, connection, redirects, headers and body),
not each read: a server that sends a byte now and then would reset a per-read timeout forever,
and a resolver that never answers would hold the fetch before it began. Names are resolved on
threads of their own that the fetch stops waiting for at the deadline (`qa.corpus.addresses`). A
watchdog thread shuts the fetch's sockets down at the deadline, or as soon as the work is
abandoned (its client gone, the server stopping: `qa.core.cancel`), so a read blocked on such a
server returns at once.
"""

from __future__ import annotations

import contextlib
import socket
import threading
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any
from urllib.parse import urljoin, urlsplit

from qa.core.cancel import Abandoned, abandon_check, checkpoint
from qa.corpus.addresses import Address, connect, is_public, resolve
from qa.corpus.documents import ArticleError
from qa.corpus.encoding import header_charset

if TYPE_CHECKING:
    import urllib3

USER_AGENT = "qa-news-reader/0.1 (extractive question answering over news articles)"
_CHUNK = 64 * 1024
# A redirect's body is read (and dropped) so that its connection can carry the next request; a
# longer one is not worth reading, and its connection is closed instead.
_REDIRECT_BODY = 64 * 1024
_REDIRECTS = (301, 302, 303, 307, 308)
# How often the watchdog looks whether the fetch was abandoned (seconds).
_POLL = 0.1


class FetchError(ArticleError):
    """A URL that could not be fetched or used; the message names the URL."""


class BlockedAddress(FetchError):
    """A URL that resolves to a loopback, private, link-local or otherwise non-public address."""


@dataclass(frozen=True, slots=True)
class FetchLimits:
    """Bounds on one fetch; `allow_private` lets it reach non-public addresses, only on the
    hosts of `private_origins` ((host, port) pairs) when that is given."""

    max_bytes: int = 10 * 1024 * 1024
    timeout: float = 20.0
    max_redirects: int = 5
    allow_private: bool = False
    private_origins: frozenset[tuple[str, int]] | None = None

    def private_ok(self, host: str, port: int) -> bool:
        """True when this fetch may reach a non-public address at `host`:`port`."""
        if not self.allow_private:
            return False
        return self.private_origins is None or (host.strip("[]").lower(), port) in (
            self.private_origins
        )


@dataclass(frozen=True, slots=True)
class Fetched:
    """A fetched resource: the URL it finally came from, its media type, its bytes, the
    charset its Content-Type header declares, and its validators (ETag, Last-Modified) for a
    conditional request next time; `not_modified` for a 304 (no bytes) to such a request."""

    url: str
    media_type: str
    data: bytes
    charset: str | None = None
    etag: str | None = None
    last_modified: str | None = None
    not_modified: bool = False


def origin(url: str) -> tuple[str, int]:
    """The (host, port) of an absolute http(s) URL (FetchLimits.private_origins), or FetchError."""
    _, host, port = check_url(url)
    return host.lower(), port


def check_url(url: str) -> tuple[str, str, int]:
    """Scheme, host and port of an absolute http(s) URL, or FetchError."""
    try:
        parts = urlsplit(url)
        port = parts.port
    except ValueError as err:
        raise FetchError(f"{_shown(url)} is not a valid URL ({err})") from None
    scheme = parts.scheme.lower()
    if scheme not in ("http", "https"):
        raise FetchError(f"{_shown(url)}: only http and https URLs can be fetched")
    if not parts.hostname:
        raise FetchError(f"{_shown(url)} has no host name")
    return scheme, parts.hostname, port or (443 if scheme == "https" else 80)


def _refuse_private(url: str, addresses: list[Address]) -> None:
    """Refuse (BlockedAddress) a URL whose host resolved to any non-public address."""
    for address in addresses:
        if not is_public(address.ip):
            raise BlockedAddress(_blocked(url, address.ip))


class _Hosts:
    """The addresses of the hosts one fetch reaches: each resolved once, within the fetch's
    deadline, and checked before any connection to it where `limits` want that."""

    def __init__(self, limits: FetchLimits, deadline: float, watchdog: _Watchdog) -> None:
        self.limits = limits
        self.deadline = deadline
        self.watchdog = watchdog
        self._known: dict[tuple[str, int], list[Address]] = {}

    def addresses(self, url: str, host: str, port: int) -> list[Address]:
        """Those of `host`:`port` (named for `url` in errors), or FetchError/BlockedAddress."""
        key = (host.strip("[]").lower(), port)
        known = self._known.get(key)
        if known is None:
            try:
                known = resolve(*key, self.deadline, lambda: self.watchdog.fired is not None)
            except TimeoutError:
                if self.watchdog.fired == "abandoned":
                    self.watchdog.check(url, self.limits)
                raise FetchError(
                    f"{_shown(url)}: the host name {key[0]!r} did not resolve within "
                    f"{self.limits.timeout:g} s (QA_FETCH_TIMEOUT)"
                ) from None
            except (OSError, UnicodeError) as err:
                raise FetchError(
                    f"{_shown(url)}: the host name {key[0]!r} does not resolve ({err})"
                ) from None
            if not self.limits.private_ok(*key):
                _refuse_private(url, known)
            self._known[key] = known
        return known


def _blocked(url: str, address: str) -> str:
    return (
        f"{_shown(url)} resolves to {address}, a loopback, private, link-local or otherwise "
        "non-public address, which the server does not fetch (QA_FETCH_ALLOW_PRIVATE=true "
        "allows it; a feed's links reach one only on the feed's own host)"
    )


def fetch(
    url: str,
    limits: FetchLimits,
    accept: str = "text/html",
    conditional: Mapping[str, str] | None = None,
) -> Fetched:
    """GET `url` (following at most `limits.max_redirects` redirects), or FetchError; within
    `limits.timeout` in all, and raising `Abandoned` soon after the work is abandoned.

    `conditional` headers (If-None-Match, If-Modified-Since) make a 304 a result: Fetched
    with `not_modified` and no bytes."""
    import urllib3

    checkpoint()  # a fetch that waited for its turn may be wanted no more
    deadline = time.monotonic() + limits.timeout
    watchdog = _Watchdog(deadline, abandon_check())
    hosts = _Hosts(limits, deadline, watchdog)
    manager = _pool_manager(limits, watchdog, hosts)
    current = url
    try:
        for _hop in range(limits.max_redirects + 1):
            _, host, port = check_url(current)
            hosts.addresses(current, host, port)  # resolved and checked before any request
            response = _request(manager, current, limits, deadline, accept, conditional)
            try:
                if response.status in _REDIRECTS:
                    target = response.headers.get("location")
                    if not target:
                        raise FetchError(f"{_shown(current)} redirects without a Location")
                    current = urljoin(current, target)
                    _discard(response)
                    continue
                if response.status == 304 and conditional:
                    _discard(response)
                    return _validated(current, response, b"", not_modified=True)
                if response.status >= 400:
                    raise FetchError(
                        f"{_shown(current)} answered HTTP {response.status} {response.reason}"
                    )
                data = _read(response, current, limits, deadline)
            finally:
                response.release_conn()
            watchdog.check(current, limits)  # a cut connection can look like a body's end
            return _validated(current, response, data)
        raise FetchError(f"{_shown(url)}: more than {limits.max_redirects} redirects")
    except urllib3.exceptions.HTTPError as err:
        watchdog.check(current, limits)
        reason = getattr(err, "reason", None) or err
        if isinstance(reason, BlockedAddress):
            raise reason from None
        raise FetchError(f"{_shown(current)} could not be fetched ({reason})") from None
    except OSError as err:  # a socket error urllib3 did not wrap: still the page's problem
        watchdog.check(current, limits)
        raise FetchError(f"{_shown(current)} could not be fetched ({err})") from None
    finally:
        watchdog.stop()
        manager.clear()


def _validated(
    url: str, response: urllib3.BaseHTTPResponse, data: bytes, *, not_modified: bool = False
) -> Fetched:
    content_type = response.headers.get("content-type", "")
    media = content_type.split(";")[0].strip().lower()
    return Fetched(
        url,
        media,
        data,
        header_charset(content_type),
        etag=response.headers.get("etag"),
        last_modified=response.headers.get("last-modified"),
        not_modified=not_modified,
    )


class _Watchdog:
    """Shuts down a fetch's connections at its deadline, or once `abandoned()` is true."""

    def __init__(self, deadline: float, abandoned: Callable[[], bool] | None) -> None:
        self.deadline = deadline
        self.abandoned = abandoned
        self.fired: str | None = None  # "timeout" or "abandoned"
        self._sockets: list[socket.socket] = []
        self._lock = threading.Lock()
        self._done = threading.Event()
        threading.Thread(target=self._watch, name="qa-fetch-watchdog", daemon=True).start()

    def add(self, sock: socket.socket) -> None:
        """Watch `sock`, a connected socket of this fetch (TLS already wrapped)."""
        with self._lock:
            self._sockets.append(sock)

    def check(self, url: str, limits: FetchLimits) -> None:
        """Raise why the fetch was cut short, if it was."""
        if self.fired == "abandoned":
            raise Abandoned(f"the fetch of {_shown(url)} was abandoned")
        if self.fired == "timeout":
            raise FetchError(f"{_shown(url)}: not received within {limits.timeout:g} s")

    def stop(self) -> None:
        with self._lock:
            self._done.set()

    def _watch(self) -> None:
        while not self._done.wait(max(0.0, min(_POLL, self.deadline - time.monotonic()))):
            if time.monotonic() >= self.deadline:
                reason = "timeout"
            elif self.abandoned is not None and self.abandoned():
                reason = "abandoned"
            else:
                continue
            with self._lock:
                if self._done.is_set():  # the fetch ended meanwhile: its sockets are not ours
                    return
                self.fired = reason
                for sock in self._sockets:
                    _cut(sock)
            return


def _cut(sock: socket.socket) -> None:
    # The plain socket's shutdown, also for a TLS socket: a read blocked in another thread
    # returns at once (end of stream), and the socket stays open until its owner closes it; a
    # socket already closed has no descriptor left to reach.
    with contextlib.suppress(OSError):
        socket.socket.shutdown(sock, socket.SHUT_RDWR)


def _request(
    manager: urllib3.PoolManager,
    url: str,
    limits: FetchLimits,
    deadline: float,
    accept: str,
    conditional: Mapping[str, str] | None,
) -> urllib3.BaseHTTPResponse:
    import urllib3

    left = deadline - time.monotonic()
    if left <= 0:
        raise FetchError(f"{_shown(url)}: no answer within {limits.timeout:g} s")
    headers = {"User-Agent": USER_AGENT, "Accept": accept, "Accept-Encoding": "gzip, deflate"}
    return manager.request(
        "GET",
        url,
        headers={**headers, **(conditional or {})},
        redirect=False,
        retries=False,
        preload_content=False,
        timeout=urllib3.Timeout(connect=min(left, 10.0), read=left),
    )


def _read(
    response: urllib3.BaseHTTPResponse, url: str, limits: FetchLimits, deadline: float
) -> bytes:
    declared = response.headers.get("content-length", "")
    if declared.isdigit() and int(declared) > limits.max_bytes:
        raise FetchError(_too_large(url, limits))
    parts: list[bytes] = []
    size = 0
    for part in response.stream(_CHUNK, decode_content=True):
        size += len(part)
        if size > limits.max_bytes:
            raise FetchError(_too_large(url, limits))
        if time.monotonic() > deadline:
            raise FetchError(f"{_shown(url)}: not received within {limits.timeout:g} s")
        parts.append(part)
    return b"".join(parts)


def _discard(response: urllib3.BaseHTTPResponse) -> None:
    """Read a redirect's body to its end, so that a kept-alive connection is ready for the
    next request; a long body is left unread and its connection closed, not reused."""
    left = _REDIRECT_BODY
    while left > 0:
        part = response.read(min(_CHUNK, left), decode_content=False)
        if not part:
            return
        left -= len(part)
    response.close()


def _too_large(url: str, limits: FetchLimits) -> str:
    return f"{_shown(url)} is larger than {limits.max_bytes:,} bytes (QA_FETCH_MAX_BYTES)"


def _shown(url: str) -> str:
    return repr(url if len(url) <= 300 else url[:300] + "…")


def _pool_manager(limits: FetchLimits, watchdog: _Watchdog, hosts: _Hosts) -> urllib3.PoolManager:
    """A pool manager whose connections go to the addresses `hosts` resolved and checked (TLS
    still verifies the host name), which the watchdog can cut, and which refuse a non-public
    peer where `limits` do not allow one."""
    import urllib3
    from urllib3.connectionpool import HTTPConnectionPool, HTTPSConnectionPool
    from urllib3.exceptions import ConnectTimeoutError, NewConnectionError

    manager = urllib3.PoolManager(num_pools=2, maxsize=1)
    guard = not (limits.allow_private and limits.private_origins is None)

    def guarded(base: Any) -> Any:
        class Guarded(base):  # type: ignore[misc]
            def connect(self) -> None:
                super().connect()
                # The socket itself: http.client lets go of it once a response will close it.
                watchdog.add(self.sock)

            def _new_conn(self) -> socket.socket:
                # Not super()._new_conn(): it would look the name up again, without a bound.
                addresses = hosts.addresses(f"{self.host}:{self.port}", self._dns_host, self.port)
                options, source = self.socket_options, self.source_address
                try:
                    sock = connect(addresses, self.timeout, hosts.deadline, options, source)
                except TimeoutError as err:
                    raise ConnectTimeoutError(self, f"connection to {self.host} timed out") from err
                except OSError as err:
                    raise NewConnectionError(self, f"failed to connect ({err})") from err
                watchdog.add(sock)  # a TLS handshake that drips is cut at the deadline too
                address = str(sock.getpeername()[0])
                if guard and not is_public(address) and not limits.private_ok(self.host, self.port):
                    sock.close()
                    raise BlockedAddress(_blocked(f"{self.host}:{self.port}", address))
                return sock

        return Guarded

    class Http(HTTPConnectionPool):
        ConnectionCls = guarded(HTTPConnectionPool.ConnectionCls)

    class Https(HTTPSConnectionPool):
        ConnectionCls = guarded(HTTPSConnectionPool.ConnectionCls)

    manager.pool_classes_by_scheme = {"http": Http, "https": Https}
    return manager
