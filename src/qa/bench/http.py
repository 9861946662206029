"""Run `qa serve` as a child process and load it over loopback from another process.

The load comes from `wrk` when it is installed (Debian package `wrk`), else from
`python -m qa.bench.loadgen`. Either way each level is bounded in time and in requests, and
counts errors (refused or broken connections, timeouts, non-2xx answers).
"""

from __future__ import annotations

import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request
from collections.abc import Iterator, Sequence
from contextlib import contextmanager, suppress
from dataclasses import dataclass
from pathlib import Path
from typing import Any

HOST = "127.0.0.1"

WRK_SCRIPT = """
wrk.method = "POST"
wrk.headers["Content-Type"] = "application/json"
local bodies = {%(bodies)s}
local max_requests = %(max_requests)d
local sent = 0
local seen = 0
request = function()
  sent = sent + 1
  return wrk.format(nil, "/ask", nil, bodies[(sent %% #bodies) + 1])
end
response = function(status, headers, body)
  seen = seen + 1
  if seen >= max_requests then wrk.thread:stop() end
end
done = function(summary, latency, requests)
  local e = summary.errors
  io.write(string.format(
    '\\nQA_JSON {"requests": %%d, "us": %%d, "p50_us": %%d, "p95_us": %%d, "p99_us": %%d, ' ..
    '"max_us": %%d, "connect": %%d, "read": %%d, "write": %%d, "status": %%d, "timeout": %%d}\\n',
    summary.requests, summary.duration, latency:percentile(50), latency:percentile(95),
    latency:percentile(99), latency.max, e.connect, e.read, e.write, e.status, e.timeout))
end
"""


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind((HOST, 0))
        return int(sock.getsockname()[1])


def _children(pid: int) -> list[int]:
    out: list[int] = []
    for task in Path(f"/proc/{pid}/task").glob("*/children"):
        with suppress(OSError):
            out.extend(int(c) for c in task.read_text().split())
    return out


def process_tree(pid: int) -> list[int]:
    """`pid` and all its descendants."""
    tree, todo = [], [pid]
    while todo:
        current = todo.pop()
        tree.append(current)
        todo.extend(_children(current))
    return tree


def memory_mb(pid: int) -> dict[str, float]:
    """Resident (`VmRSS`) and peak resident (`VmHWM`) memory of one process in MB, from
    /proc; {} when the process is gone."""
    out: dict[str, float] = {}
    with suppress(OSError):
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            key = line.split(":", 1)[0]
            if key in ("VmRSS", "VmHWM"):
                out[key] = int(line.split()[1]) / 1024
    return out


def peak_rss_mb(pid: int) -> dict[str, float]:
    """Peak resident memory (VmHWM) of a process tree: summed and of its largest process."""
    peaks = [m["VmHWM"] for p in process_tree(pid) if "VmHWM" in (m := memory_mb(p))]
    return {"sum_mb": round(sum(peaks), 1), "max_mb": round(max(peaks, default=0.0), 1)}


@dataclass
class Server:
    """A running `qa serve` child."""

    process: subprocess.Popen[bytes]
    port: int
    ready_seconds: float
    log: Path

    @property
    def url(self) -> str:
        return f"http://{HOST}:{self.port}"


def _get(url: str, timeout: float = 2.0) -> int:
    with urllib.request.urlopen(url, timeout=timeout) as response:  # loopback only
        return int(response.status)


@contextmanager
def serve(
    seeds: Path,
    index: Path,
    env: dict[str, str],
    *,
    workers: int = 1,
    timeout: float = 300.0,
    log_dir: Path | None = None,
) -> Iterator[Server]:
    """Start `qa serve` and wait until GET /health answers 200; stop it afterwards.

    `ready_seconds` is process start to the first healthy answer: the cold start.
    """
    port = free_port()
    log_dir = log_dir or Path(tempfile.gettempdir())
    log = log_dir / f"serve-{port}.log"
    command = [sys.executable, "-m", "qa.cli", "serve", "--seeds", str(seeds)]
    command += ["--index", str(index), "--host", HOST, "--port", str(port)]
    if workers > 1:
        command += ["--workers", str(workers)]
    with log.open("wb") as sink:
        started = time.perf_counter()
        process = subprocess.Popen(
            command, stdout=sink, stderr=subprocess.STDOUT, env={**os.environ, **env}
        )
    try:
        while True:
            if process.poll() is not None:
                raise RuntimeError(f"qa serve exited with {process.returncode}; see {log}")
            if time.perf_counter() - started > timeout:
                raise RuntimeError(f"qa serve not ready after {timeout:.0f} s; see {log}")
            with suppress(OSError):
                if _get(f"http://{HOST}:{port}/health", timeout=1.0) == 200:
                    break
            time.sleep(0.01)
        yield Server(process, port, time.perf_counter() - started, log)
    finally:
        stop(process)


def stop(process: subprocess.Popen[bytes]) -> None:
    """Ask the server to stop (SIGINT, as Ctrl-C), then insist."""
    if process.poll() is None:
        process.send_signal(signal.SIGINT)
        try:
            process.wait(timeout=20)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


def load(
    url: str,
    bodies: Sequence[dict[str, Any]],
    connections: int,
    duration: float,
    max_requests: int,
    *,
    tool: str = "auto",
    work: Path,
) -> dict[str, Any]:
    """One load level against POST {url}/ask; latencies in ms."""
    wrk = shutil.which("wrk")
    if tool == "wrk" or (tool == "auto" and wrk):
        if not wrk:
            raise RuntimeError("wrk is not installed (apt-get install wrk)")
        return _wrk(wrk, url, bodies, connections, duration, max_requests, work)
    path = work / "bodies.json"
    path.write_text(json.dumps(list(bodies)))
    command = [sys.executable, "-m", "qa.bench.loadgen", f"{url}/ask"]
    command += ["--connections", str(connections), "--duration", str(duration)]
    command += ["--max-requests", str(max_requests), "--bodies", str(path)]
    done = subprocess.run(
        command, capture_output=True, text=True, timeout=duration + 60, check=True
    )
    result: dict[str, Any] = json.loads(done.stdout.strip().splitlines()[-1])
    return result


def _wrk(
    wrk: str,
    url: str,
    bodies: Sequence[dict[str, Any]],
    connections: int,
    duration: float,
    max_requests: int,
    work: Path,
) -> dict[str, Any]:
    lua_bodies = ", ".join(f"[==[{json.dumps(b)}]==]" for b in bodies)
    script = work / "ask.lua"
    script.write_text(WRK_SCRIPT % {"bodies": lua_bodies, "max_requests": max_requests})
    seconds = max(1, round(duration))
    # One wrk thread: it needs little CPU, and every cycle it takes is one the server lacks.
    command = [wrk, "-t1", f"-c{connections}", f"-d{seconds}s", "--timeout", "10s"]
    command += ["-s", str(script), url]
    done = subprocess.run(command, capture_output=True, text=True, timeout=seconds + 60)
    line = next((x for x in done.stdout.splitlines() if x.startswith("QA_JSON ")), None)
    if line is None:
        raise RuntimeError(f"wrk gave no summary: {done.stdout[-500:]} {done.stderr[-500:]}")
    raw = json.loads(line.removeprefix("QA_JSON "))
    secs = raw["us"] / 1e6
    return {
        "tool": "wrk",
        "connections": connections,
        "seconds": round(secs, 3),
        "requests": raw["requests"],
        "rps": round(raw["requests"] / secs, 1) if secs else 0.0,
        "p50_ms": raw["p50_us"] / 1000,
        "p95_ms": raw["p95_us"] / 1000,
        "p99_ms": raw["p99_us"] / 1000,
        "max_ms": raw["max_us"] / 1000,
        "errors": {k: raw[k] for k in ("connect", "read", "write", "status", "timeout")},
    }
