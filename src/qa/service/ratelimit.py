"""A token bucket per client address, in-process: anonymous routes (POST /feedback) answer a
client that sends faster than its rate with 429 and a Retry-After, instead of letting it fill
the disk.

Each worker process keeps its own buckets (with QA_WORKERS > 1 a client gets that many times
the rate), and the address is the connection's peer: behind a reverse proxy every client is the
proxy, so the rate is then the proxy's in all.
"""

from __future__ import annotations

import math
import threading
import time
from collections import OrderedDict
from collections.abc import Callable

# Buckets kept at most; the least recently used go first (a full bucket is the same as none).
MAX_CLIENTS = 10_000


class RateLimiter:
    """`per_minute` events per client, in bursts of up to `per_minute`."""

    def __init__(self, per_minute: float, clock: Callable[[], float] = time.monotonic) -> None:
        self.capacity = float(per_minute)
        self.refill = per_minute / 60.0  # tokens a second
        self._clock = clock
        self._buckets: OrderedDict[str, tuple[float, float]] = OrderedDict()
        self._lock = threading.Lock()

    def take(self, client: str) -> float:
        """Take one token for `client`: 0.0 when allowed, else the seconds until it may retry."""
        now = self._clock()
        with self._lock:
            tokens, last = self._buckets.pop(client, (self.capacity, now))
            tokens = min(self.capacity, tokens + (now - last) * self.refill)
            wait = 0.0 if tokens >= 1.0 else (1.0 - tokens) / self.refill
            self._buckets[client] = (tokens - 1.0 if wait == 0.0 else tokens, now)
            while len(self._buckets) > MAX_CLIENTS:
                self._buckets.popitem(last=False)
        return wait


def retry_after(wait: float) -> str:
    """`wait` seconds as a Retry-After header value (whole seconds, at least 1)."""
    return str(max(1, math.ceil(wait)))
