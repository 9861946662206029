"""Loading a server: the Python and wrk load generators on a toy server, and `qa serve` with
two workers. No figure is ever asserted."""

from __future__ import annotations

import json
import shutil
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest

from qa.bench import http
from tests.conftest import SEEDS


class _Ok(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def do_POST(self) -> None:
        self.rfile.read(int(self.headers["Content-Length"]))
        status = 500 if self.server.fail else 200  # type: ignore[attr-defined]
        self.send_response(status)
        self.send_header("Content-Length", "2")
        self.end_headers()
        self.wfile.write(b"{}")

    def log_message(self, *_args) -> None:
        pass


class _Quiet(ThreadingHTTPServer):
    def handle_error(self, *_args) -> None:
        pass  # load generators hang up mid-response when their time is up


@pytest.fixture
def toy_server() -> Iterator[ThreadingHTTPServer]:
    server = _Quiet(("127.0.0.1", 0), _Ok)
    server.fail = False  # type: ignore[attr-defined]
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield server
    server.shutdown()


def test_python_load_generator_is_bounded_and_counts_errors(toy_server, tmp_path: Path) -> None:
    url = f"http://127.0.0.1:{toy_server.server_address[1]}"
    result = http.load(url, [{"question": "q"}], 3, 5.0, 40, tool="python", work=tmp_path)
    assert result["tool"] == "python"
    assert result["requests"] == 40 and result["errors"]["status"] == 0
    assert result["p50_ms"] <= result["p99_ms"]
    toy_server.fail = True
    result = http.load(url, [{}], 2, 0.3, 10_000, tool="python", work=tmp_path)
    assert result["errors"]["status"] == result["requests"] > 0


def test_wrk_levels_are_bounded_and_summarised(toy_server, tmp_path: Path) -> None:
    assert shutil.which("wrk"), "wrk is missing: apt-get install -y wrk (.ci/run does)"
    url = f"http://127.0.0.1:{toy_server.server_address[1]}"
    result = http.load(url, [{"question": "q"}], 2, 1.0, 30, tool="wrk", work=tmp_path)
    assert result["tool"] == "wrk" and 0 < result["requests"] <= 40
    assert sum(result["errors"].values()) == 0 and result["p50_ms"] <= result["p99_ms"]


@pytest.mark.e2e
def test_serve_with_two_workers_shares_one_index_and_both_answer(tmp_path: Path) -> None:
    """Two worker processes serve one index built once; each of them answers /ask (its own
    /metrics, naming its pid, counts an /ask answered 200)."""
    import re
    import urllib.error
    import urllib.request

    ask = json.dumps({"question": "Who is the Prime Minister of Japan?"}).encode()
    answered = re.compile(
        r'qa_http_requests_total\{method="POST",route="/ask",status="200"\} (\S+)'
    )
    worker = re.compile(r'qa_worker_info\{pid="(\d+)"\}')
    with http.serve(SEEDS, tmp_path / "index", {}, workers=2, log_dir=tmp_path) as server:
        workers = set(http.process_tree(server.process.pid)) - {server.process.pid}
        asks: dict[int, float] = {}
        # Each request is a new connection, which either worker may accept; each worker loads on
        # its own, so one may still say 503 while the other answers.
        for _ in range(500):
            request = urllib.request.Request(
                f"{server.url}/ask", data=ask, headers={"Content-Type": "application/json"}
            )
            try:
                with urllib.request.urlopen(request, timeout=60) as response:
                    assert response.status == 200 and "citations" in json.loads(response.read())
            except urllib.error.HTTPError as err:
                if err.code != 503:
                    raise
            with urllib.request.urlopen(f"{server.url}/metrics", timeout=60) as response:
                metrics = response.read().decode()
            pid = int(worker.findall(metrics)[0])
            asks[pid] = max(asks.get(pid, 0.0), sum(float(n) for n in answered.findall(metrics)))
            if len([p for p, n in asks.items() if n >= 1]) == 2:
                break
        assert len(workers) >= 2  # uvicorn's workers (and its supervisor, when there is one)
        assert set(asks) <= workers
        assert sorted(n >= 1 for n in asks.values()) == [True, True], asks
    assert len(list((tmp_path / "index").glob("v-*"))) == 1  # built once, by the parent
