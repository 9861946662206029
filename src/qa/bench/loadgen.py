"""A small closed-loop HTTP/1.1 load generator, run as its own process.

`wrk` is preferred (C, one thread, little CPU taken from the server); this is the fallback where
it is not installed. Each of `connections` keep-alive connections sends one POST at a time and
waits for its answer, until `duration` seconds pass or `max_requests` are sent. Loopback only:
the target must be a 127.0.0.0/8 or ::1 address.

    python -m qa.bench.loadgen http://127.0.0.1:8000/ask --connections 4 --duration 5 \
        --max-requests 5000 --bodies bodies.json
"""

from __future__ import annotations

import argparse
import asyncio
import ipaddress
import json
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit


@dataclass
class Tally:
    """What every connection saw."""

    budget: int
    latencies: list[float] = field(default_factory=list)
    errors: dict[str, int] = field(
        default_factory=lambda: {"connect": 0, "read": 0, "status": 0, "timeout": 0}
    )

    def take(self) -> bool:
        if self.budget <= 0:
            return False
        self.budget -= 1
        return True


def require_loopback(host: str) -> None:
    """Refuse any target that is not this machine."""
    try:
        loopback = host == "localhost" or ipaddress.ip_address(host).is_loopback
    except ValueError:
        loopback = False
    if not loopback:
        raise SystemExit(f"refusing to load {host}: benchmarks only target loopback addresses")


async def _read_response(reader: asyncio.StreamReader) -> int:
    status_line = await reader.readline()
    if not status_line:
        raise ConnectionError("connection closed")
    status = int(status_line.split()[1])
    length = 0
    while True:
        line = await reader.readline()
        if line in (b"\r\n", b"\n", b""):
            break
        name, _, value = line.decode("latin-1").partition(":")
        if name.strip().lower() == "content-length":
            length = int(value.strip())
    if length:
        await reader.readexactly(length)
    return status


async def _connection(
    host: str, port: int, path: str, bodies: list[bytes], offset: int, deadline: float, tally: Tally
) -> None:
    i = offset
    writer: asyncio.StreamWriter | None = None
    reader: asyncio.StreamReader | None = None
    while time.perf_counter() < deadline and tally.take():
        if writer is None:
            try:
                reader, writer = await asyncio.open_connection(host, port)
            except OSError:
                tally.errors["connect"] += 1
                await asyncio.sleep(0.05)
                continue
        assert reader is not None
        body = bodies[i % len(bodies)]
        i += 1
        head = (
            f"POST {path} HTTP/1.1\r\nHost: {host}:{port}\r\n"
            f"Content-Type: application/json\r\nContent-Length: {len(body)}\r\n\r\n"
        ).encode("ascii")
        started = time.perf_counter()
        try:
            writer.write(head + body)
            await writer.drain()
            remaining = max(0.001, deadline + 10.0 - started)
            status = await asyncio.wait_for(_read_response(reader), timeout=remaining)
        except TimeoutError:
            tally.errors["timeout"] += 1
            writer.close()
            writer = None
            continue
        except (OSError, ConnectionError, ValueError, IndexError, asyncio.IncompleteReadError):
            tally.errors["read"] += 1
            writer.close()
            writer = None
            continue
        tally.latencies.append(time.perf_counter() - started)
        if not 200 <= status < 300:
            tally.errors["status"] += 1
    if writer is not None:
        writer.close()


def percentile(values: list[float], q: float) -> float:
    """The `q`-th percentile (0-100) by linear interpolation; nan for no values."""
    if not values:
        return float("nan")
    ordered = sorted(values)
    pos = (len(ordered) - 1) * q / 100.0
    lo = int(pos)
    hi = min(lo + 1, len(ordered) - 1)
    return ordered[lo] + (ordered[hi] - ordered[lo]) * (pos - lo)


async def run(
    url: str, bodies: list[bytes], connections: int, duration: float, max_requests: int
) -> dict[str, Any]:
    """Load `url` and summarise: requests, req/s, latency percentiles (ms) and errors."""
    parts = urlsplit(url)
    host, port = parts.hostname or "127.0.0.1", parts.port or 80
    require_loopback(host)
    tally = Tally(max_requests)
    started = time.perf_counter()
    deadline = started + duration
    await asyncio.gather(
        *(
            _connection(host, port, parts.path or "/", bodies, c * 7, deadline, tally)
            for c in range(connections)
        )
    )
    elapsed = time.perf_counter() - started
    ms = [x * 1000 for x in tally.latencies]
    return {
        "tool": "python",
        "connections": connections,
        "seconds": round(elapsed, 3),
        "requests": len(ms),
        "rps": round(len(ms) / elapsed, 1) if elapsed else 0.0,
        "p50_ms": round(percentile(ms, 50), 3),
        "p95_ms": round(percentile(ms, 95), 3),
        "p99_ms": round(percentile(ms, 99), 3),
        "max_ms": round(max(ms), 3) if ms else float("nan"),
        "errors": tally.errors,
    }


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("url")
    parser.add_argument("--connections", type=int, default=1)
    parser.add_argument("--duration", type=float, default=5.0)
    parser.add_argument("--max-requests", type=int, default=100_000)
    parser.add_argument("--bodies", type=Path, required=True, help="JSON list of request bodies")
    args = parser.parse_args(argv)
    bodies = [json.dumps(b).encode("utf-8") for b in json.loads(args.bodies.read_text())]
    result = asyncio.run(run(args.url, bodies, args.connections, args.duration, args.max_requests))
    sys.stdout.write(json.dumps(result) + "\n")


if __name__ == "__main__":
    main()
