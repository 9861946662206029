"""Host names to addresses: which addresses are public, resolution bounded by a deadline, and
connecting to addresses already resolved.

`socket.getaddrinfo` takes no timeout and cannot be interrupted, and a slow or hostile resolver
may hold it as long as it likes. So names are looked up on a few daemon threads of their own,
and the caller waits only until its deadline: a lookup left behind ends (or not) on its thread
and holds nobody up. While every thread is held by such lookups, new ones wait in line, each
within its own deadline. A fetch then connects to the very addresses it resolved and checked,
rather than letting the HTTP library look the name up again (an answer that changed in between,
DNS rebinding, would reach an address that was never checked).
"""

from __future__ import annotations

import contextlib
import ipaddress
import os
import queue
import socket
import threading
import time
from collections.abc import Callable, Iterable, Sequence
from concurrent.futures import Future, wait
from dataclasses import dataclass
from typing import Any

# Lookups at once; the server fetches at most 8 pages at once, so none waits on another's.
_RESOLVERS = 8
# How often a waiting caller looks whether it should stop waiting (seconds).
_POLL = 0.1

# IPv6 forms that carry an IPv4 address: judged by it (NAT64 and 6to4 reach public IPv4 hosts
# this way), or refused outright where no public host is reached through them.
_NAT64 = ipaddress.ip_network("64:ff9b::/96")
_NEVER_PUBLIC = tuple(
    ipaddress.ip_network(n)
    for n in (
        "64:ff9b:1::/48",  # local-use NAT64 (RFC 8215)
        "::/96",  # IPv4-compatible (deprecated), with :: and ::1
        "::ffff:0:0:0/96",  # IPv4-translated (RFC 2765)
        "fec0::/10",  # site-local (deprecated)
    )
)


def is_public(address: str) -> bool:
    """True for a globally routable unicast address; an IPv6 address that embeds an IPv4 one
    (IPv4-mapped, NAT64 64:ff9b::/96, 6to4 2002::/16) is judged as that IPv4 address, and the
    forms that reach no public host (local-use NAT64, IPv4-compatible, IPv4-translated,
    site-local) are never public."""
    ip = ipaddress.ip_address(address.split("%", 1)[0])
    if isinstance(ip, ipaddress.IPv6Address):
        if any(ip in network for network in _NEVER_PUBLIC):
            return False
        if ip in _NAT64:
            ip = ipaddress.IPv4Address(int(ip) & 0xFFFFFFFF)
        else:
            ip = ip.ipv4_mapped or ip.sixtofour or ip
    return ip.is_global and not ip.is_multicast


@dataclass(frozen=True, slots=True)
class Address:
    """One address a host name resolved to: its socket family and what `connect` takes."""

    family: int
    sockaddr: tuple[Any, ...]

    @property
    def ip(self) -> str:
        return str(self.sockaddr[0])


def resolve(
    host: str, port: int, deadline: float, stop: Callable[[], bool] | None = None
) -> list[Address]:
    """The addresses of `host`:`port` for a TCP connection; TimeoutError at `deadline`
    (`time.monotonic()`) or once `stop()` is true, else what `getaddrinfo` raises."""
    with contextlib.suppress(socket.gaierror):  # an address already: nothing to look up
        numeric = socket.getaddrinfo(
            host, port, type=socket.SOCK_STREAM, flags=socket.AI_NUMERICHOST
        )
        return _addresses(numeric)
    lookup = _pool.submit(host, port)
    while not lookup.done():
        left = deadline - time.monotonic()
        if left <= 0 or (stop is not None and stop()):
            lookup.cancel()
            raise TimeoutError(f"{host!r} did not resolve in time")
        wait([lookup], timeout=min(left, _POLL))
    return _addresses(lookup.result())


def connect(
    addresses: Sequence[Address],
    timeout: object,
    deadline: float,
    options: Iterable[tuple[Any, ...]] | None = None,
    source: tuple[str, int] | None = None,
) -> socket.socket:
    """A socket connected to the first of `addresses` that answers, each try within `timeout`
    (seconds; anything else is none) and all before `deadline`; the last try's OSError
    (TimeoutError at the deadline)."""
    per_try = float(timeout) if isinstance(timeout, int | float) else None
    error: OSError = OSError("no address to connect to")
    for address in addresses:
        left = deadline - time.monotonic()
        if left <= 0:
            raise TimeoutError("no connection made in time")
        sock = socket.socket(address.family, socket.SOCK_STREAM)
        try:
            for option in options or ():
                sock.setsockopt(*option)
            sock.settimeout(left if per_try is None else min(per_try, left))
            if source:
                sock.bind(source)
            sock.connect(address.sockaddr)
        except OSError as err:
            sock.close()
            error = err
            continue
        return sock
    raise error


def _addresses(infos: Iterable[tuple[Any, ...]]) -> list[Address]:
    found: list[Address] = []
    for family, _, _, _, sockaddr in infos:
        address = Address(int(family), tuple(sockaddr))
        if address not in found:
            found.append(address)
    return found


_Job = tuple["Future[list[tuple[Any, ...]]]", str, int]


class _Resolvers:
    """A few daemon threads that run `getaddrinfo`; started at the first lookup (again in a
    forked child, which inherits no threads)."""

    def __init__(self) -> None:
        self._jobs: queue.SimpleQueue[_Job] = queue.SimpleQueue()
        self._lock = threading.Lock()
        self._started = False

    def submit(self, host: str, port: int) -> Future[list[tuple[Any, ...]]]:
        with self._lock:
            if not self._started:
                for n in range(_RESOLVERS):
                    name = f"qa-resolver-{n}"
                    threading.Thread(target=self._work, name=name, daemon=True).start()
                self._started = True
        lookup: Future[list[tuple[Any, ...]]] = Future()
        self._jobs.put((lookup, host, port))
        return lookup

    def _work(self) -> None:
        jobs = self._jobs
        while True:
            lookup, host, port = jobs.get()
            if not lookup.set_running_or_notify_cancel():  # its caller stopped waiting
                continue
            try:
                lookup.set_result(socket.getaddrinfo(host, port, type=socket.SOCK_STREAM))
            except BaseException as err:  # the caller's to judge
                lookup.set_exception(err)


_pool = _Resolvers()


def _restart_in_child() -> None:
    global _pool
    _pool = _Resolvers()


os.register_at_fork(after_in_child=_restart_in_child)
