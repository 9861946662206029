"""Figures for the write path, with the real model, over HTTP against `qa serve`:

- articles added per second (PUT one at a time, alone and under question load; `qa add` batch),
- latency of /ask (p50 / p99) with 8 clients, without and during writes,
- time to recover from a corrupted index (restart until /readyz says ready), against a clean
  restart.

The corpus is the paragraphs of SQuAD 2.0 dev (half) as articles, one per file.

    .venv/bin/python scripts/write_figures.py [--articles 500] [--writes 40] [--out DIR]
"""

from __future__ import annotations

import argparse
import json
import os
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

import httpx

ROOT = Path(__file__).resolve().parents[1]
SQUAD = ROOT.parent / "shared/datasets/squad2-dev-half/dev-v2.0.json"
TOKEN = "figures-token-0123456789"
AUTH = {"Authorization": f"Bearer {TOKEN}"}


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def corpus() -> tuple[list[str], list[str]]:
    data = json.loads(SQUAD.read_text(encoding="utf-8"))
    paragraphs = [p for a in data["data"] for p in a["paragraphs"]]
    texts = [p["context"].strip() + "\n" for p in paragraphs]
    questions = [q["question"] for p in paragraphs for q in p["qas"]]
    return texts, questions


class Server:
    def __init__(self, seeds: Path, index: Path, log: Path) -> None:
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        env = {
            **os.environ,
            "QA_SEEDS_DIR": str(seeds),
            "QA_INDEX_DIR": str(index),
            "QA_API_TOKEN": TOKEN,
            "QA_FEEDBACK_PATH": str(log.parent / "feedback.jsonl"),
        }
        command = [sys.executable, "-m", "qa.cli", "serve", "--port", str(self.port)]
        self.started = time.perf_counter()
        self.process = subprocess.Popen(
            command, cwd=ROOT, env=env, stdout=log.open("a"), stderr=subprocess.STDOUT
        )

    def wait_ready(self, timeout: float = 900) -> float:
        """Seconds from process start to /readyz 200."""
        while time.perf_counter() - self.started < timeout:
            assert self.process.poll() is None, "qa serve exited; see the log"
            try:
                if httpx.get(f"{self.url}/readyz", timeout=2).status_code == 200:
                    return time.perf_counter() - self.started
            except httpx.HTTPError:
                pass
            time.sleep(0.05)
        raise TimeoutError("qa serve never became ready")

    def stop(self) -> None:
        self.process.send_signal(signal.SIGINT)
        try:
            self.process.wait(30)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()


def percentile(values: list[float], p: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(p / 100 * len(ordered)))] if ordered else float("nan")


def ask_load(url: str, questions: list[str], stop: threading.Event, clients: int = 8) -> dict:
    latencies: list[float] = []
    errors: list[str] = []

    def client(n: int) -> None:
        with httpx.Client(base_url=url, timeout=60) as http:
            i = n * 97
            while not stop.is_set():
                started = time.perf_counter()
                r = http.post("/ask", json={"question": questions[i % len(questions)]})
                latencies.append(time.perf_counter() - started)
                if r.status_code != 200:
                    errors.append(f"{r.status_code} {r.text[:100]}")
                i += 1

    threads = [threading.Thread(target=client, args=(n,)) for n in range(clients)]
    for t in threads:
        t.start()
    return {"threads": threads, "latencies": latencies, "errors": errors}


def finish(load: dict) -> dict:
    for t in load["threads"]:
        t.join()
    lat = load["latencies"]
    return {
        "questions": len(lat),
        "p50_ms": round(1000 * statistics.median(lat), 1) if lat else None,
        "p99_ms": round(1000 * percentile(lat, 99), 1),
        "errors": len(load["errors"]),
    }


def put_articles(url: str, texts: list[str], prefix: str) -> dict:
    durations = []
    with httpx.Client(base_url=url, headers=AUTH, timeout=120) as http:
        started = time.perf_counter()
        for i, text in enumerate(texts):
            t0 = time.perf_counter()
            r = http.put(f"/documents/{prefix}-{i}", json={"text": text})
            assert r.status_code in (200, 201), r.text
            durations.append(time.perf_counter() - t0)
        total = time.perf_counter() - started
    return {
        "articles": len(texts),
        "seconds": round(total, 2),
        "articles_per_second": round(len(texts) / total, 2),
        "p50_write_ms": round(1000 * statistics.median(durations), 1),
        "max_write_ms": round(1000 * max(durations), 1),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--articles", type=int, default=500)
    parser.add_argument("--writes", type=int, default=40)
    parser.add_argument("--seconds", type=float, default=10.0, help="of question load alone")
    parser.add_argument("--out", type=Path, default=None)
    args = parser.parse_args()
    work = args.out or Path(tempfile.mkdtemp(prefix="qa-write-figures-"))
    work.mkdir(parents=True, exist_ok=True)
    seeds, index, log = work / "seeds", work / "index", work / "serve.log"
    texts, questions = corpus()
    base, extra = texts[: args.articles], texts[args.articles :]
    seeds.mkdir(exist_ok=True)
    for i, text in enumerate(base):
        (seeds / f"squad-{i:04d}.txt").write_text(text, encoding="utf-8")
    figures: dict = {"articles": len(base), "work": str(work), "cores": os.cpu_count()}
    figures["load_average_before"] = os.getloadavg()

    server = Server(seeds, index, log)
    figures["cold_start_with_build_s"] = round(server.wait_ready(), 2)
    try:
        stop = threading.Event()
        load = ask_load(server.url, questions, stop)
        time.sleep(args.seconds)
        stop.set()
        figures["ask_without_writes"] = finish(load)

        figures["writes_alone"] = put_articles(server.url, extra[: args.writes // 2], "alone")

        stop = threading.Event()
        load = ask_load(server.url, questions, stop)
        figures["writes_under_ask_load"] = put_articles(
            server.url, extra[args.writes // 2 : args.writes], "loaded"
        )
        stop.set()
        figures["ask_during_writes"] = finish(load)

        batch = work / "batch"
        batch.mkdir(exist_ok=True)
        files = []
        for i, text in enumerate(extra[args.writes : args.writes + 40]):
            files.append(batch / f"batch-{i}.txt")
            files[-1].write_text(text, encoding="utf-8")
        env = {**os.environ, "QA_SEEDS_DIR": str(seeds), "QA_INDEX_DIR": str(index)}
        started = time.perf_counter()
        subprocess.run(
            [sys.executable, "-m", "qa.cli", "add", *map(str, files)],
            cwd=ROOT,
            env=env,
            check=True,
            capture_output=True,
        )
        added = time.perf_counter() - started
        while httpx.get(f"{server.url}/documents/batch-0", timeout=5).status_code != 200:
            time.sleep(0.05)
        figures["qa_add_batch"] = {
            "articles": len(files),
            "seconds": round(added, 2),
            "articles_per_second": round(len(files) / added, 2),
            "served_by_the_running_server_after_s": round(time.perf_counter() - started, 2),
        }
    finally:
        server.stop()

    server = Server(seeds, index, log)
    figures["clean_restart_s"] = round(server.wait_ready(), 2)
    server.stop()
    target = index / "current" / "sentence_vectors.npy"
    data = bytearray(target.read_bytes())
    data[len(data) // 2] ^= 0xFF
    target.write_bytes(bytes(data))
    server = Server(seeds, index, log)
    figures["restart_after_corruption_s"] = round(server.wait_ready(), 2)
    server.stop()
    figures["load_average_after"] = os.getloadavg()
    text = json.dumps(figures, indent=2)
    (work / "figures.json").write_text(text + "\n", encoding="utf-8")
    print(text)


if __name__ == "__main__":
    main()
