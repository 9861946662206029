"""The benchmark suite keeps working: its parts on toy inputs, and a smoke run with tiny sizes.

No figure is ever asserted: they depend on the machine and on whatever else it is doing.
"""

from __future__ import annotations

import json
import shutil
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import numpy as np
import pytest

from qa.bench import BenchConfig, http, run_bench
from qa.bench.loadgen import percentile, require_loopback
from qa.bench.report import markdown, targets
from qa.bench.scaling import Spectrum, recall_at_k
from qa.bench.suite import perturbed_copy
from qa.core.runtime import limit_threads, resolve_threads
from tests.conftest import SEEDS


def test_percentile_interpolates() -> None:
    assert percentile([1.0, 2.0, 3.0, 4.0], 50) == 2.5
    assert percentile([5.0], 99) == 5.0
    assert np.isnan(percentile([], 50))


def test_perturbed_copies_differ_but_keep_shape() -> None:
    text = "Founded in 1901.\n\nSecond paragraph, 42 words.\n\nThird."
    assert perturbed_copy(text, 0) == text
    copy = perturbed_copy(text, 1)
    assert copy != text and sorted(copy) != sorted(text)
    assert copy.startswith("Second paragraph, 53 words.")
    assert len(copy) == len(text)


def test_synthetic_vectors_are_unit_length_and_recall_is_exact_on_truth() -> None:
    real = np.random.default_rng(0).standard_normal((20, 16)).astype(np.float32)
    drawn = Spectrum(real).draw(50, chunk=7)
    assert drawn.shape == (50, 16)
    assert np.allclose(np.linalg.norm(drawn, axis=1), 1.0, atol=1e-5)
    truth = np.arange(20).reshape(2, 10)
    assert recall_at_k(truth, truth) == 1.0
    assert recall_at_k(truth[:, ::-1], truth) == 1.0
    assert recall_at_k(truth + 5, truth) == 0.5


def test_targets_compare_against_the_same_runs_reference() -> None:
    results = {
        "meta": {"config": {"encoder": "onnx-int8"}},
        "encoders": {
            "torch": {"query": {"p50_ms": 10.0}},
            "onnx-int8": {"cosine_to_torch": {"min": 0.99}},
        },
        "http": {
            "onnx-int8": {
                "levels": {
                    "1": {"p50_ms": 4.0},
                    "16": {"rps": 150.0, "p99_ms": 90.0, "errors": {"read": 1}},
                },
                "cold_start_median_s": 0.8,
                "rss": {"sum_mb": 200.0},
            }
        },
    }
    got = {t["target"]: t for t in targets(results)}
    assert got["HTTP /ask p50 at 1 connection"]["limit"] == "<= 5.0"
    assert got["HTTP /ask p50 at 1 connection"]["met"] is True
    assert got["HTTP req/s at 16 connections"]["met"] is False  # needs 2 / 10 ms = 200
    assert got["HTTP errors at 16 connections"]["met"] is False
    assert got["index build vs torch fp32 (squad)"]["met"] is None  # not run
    assert "| HTTP p99 at 16 connections | 90 |" in markdown(
        {**results, "targets": list(got.values())}
    )


def test_only_loopback_is_loaded() -> None:
    for host in ("127.0.0.1", "localhost", "::1", "127.0.0.2"):
        require_loopback(host)
    for host in ("10.0.0.1", "192.168.1.1", "8.8.8.8", "example.com"):
        with pytest.raises(SystemExit):
            require_loopback(host)


def test_threads_follow_the_cores_and_the_workers(monkeypatch) -> None:
    monkeypatch.setattr("qa.core.runtime.cores", lambda: 4)
    assert resolve_threads(0) == 4 and resolve_threads(0, workers=2) == 2
    assert resolve_threads(3, workers=2) == 3 and resolve_threads(0, workers=8) == 1
    for name in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("MKL_NUM_THREADS", "7")  # a user's own setting wins
    assert limit_threads(1) == 1
    import os

    assert os.environ["OMP_NUM_THREADS"] == "1" and os.environ["MKL_NUM_THREADS"] == "7"


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


@pytest.mark.bench
def test_smoke_run_writes_both_reports(tmp_path: Path) -> None:
    config = BenchConfig.smoke(tmp_path / "reports", seeds=SEEDS, load_tool="python")
    json_path, md_path = run_bench(config, log=lambda _m: None)
    results = json.loads(json_path.read_text())
    assert set(results) >= {"meta", "encoders", "inproc", "build", "http", "scaling", "targets"}
    assert {t["target"] for t in results["targets"]} >= {
        "HTTP /ask p50 at 1 connection",
        "cold start to /health ready",
    }
    level = results["http"]["onnx-int8"]["levels"]["1"]
    assert level["requests"] > 0 and sum(level["errors"].values()) == 0
    assert "## Targets" in md_path.read_text()
    assert not (tmp_path / "reports" / "latest.md").exists()  # smoke runs never replace it


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


def test_wrk_levels_are_bounded_and_summarised(toy_server, tmp_path: Path) -> None:
    assert shutil.which("wrk"), "wrk is missing: apt-get install -y wrk (.ci/run does)"
    url = f"http://127.0.0.1:{toy_server.server_address[1]}"
    result = http.load(url, [{"question": "q"}], 2, 1.0, 30, tool="wrk", work=tmp_path)
    assert result["tool"] == "wrk" and 0 < result["requests"] <= 40
    assert sum(result["errors"].values()) == 0 and result["p50_ms"] <= result["p99_ms"]
