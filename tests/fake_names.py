"""A fake resolver for test host names: `names` answers each name with the addresses it is
given, slowly if asked, and counts the lookups; other names and address literals go to the real
resolver."""

from __future__ import annotations

import socket
import threading
from collections import Counter
from collections.abc import Iterator

import pytest


class FakeNames:
    """Answers for test host names (each call takes the next answer, the last one repeats);
    a name in `slow` is answered only once `release` is set, or after 5 s."""

    def __init__(self) -> None:
        self.answers: dict[str, list[str]] = {}
        self.slow: set[str] = set()
        self.calls: Counter[str] = Counter()
        self.release = threading.Event()
        self._real = socket.getaddrinfo

    def getaddrinfo(
        self, host: str, port: int, family: int = 0, type: int = 0, proto: int = 0, flags: int = 0
    ) -> list[tuple[object, ...]]:
        if host not in self.answers or flags & socket.AI_NUMERICHOST:
            return self._real(host, port, family, type, proto, flags)
        self.calls[host] += 1
        if host in self.slow:
            self.release.wait(5)
        answers = self.answers[host]
        address = answers[min(self.calls[host], len(answers)) - 1]
        return self._real(address, port, family, type, proto, flags)


@pytest.fixture
def names(monkeypatch: pytest.MonkeyPatch) -> Iterator[FakeNames]:
    fake = FakeNames()
    monkeypatch.setattr(socket, "getaddrinfo", fake.getaddrinfo)
    yield fake
    fake.release.set()  # a lookup left behind ends now
