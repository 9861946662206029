"""Milvus Lite against FAISS at growing sizes: build time, query latency, memory, recall.

Synthetic unit vectors (Gaussian, 384-d, the dimension of all-MiniLM-L6-v2); each
(backend, index, size) runs in its own process, so memory figures do not mix. Milvus Lite runs
its engine in a child process, whose resident memory is measured from /proc.

    python -m qa.bench.milvus_scaling --sizes 10000 100000 1000000 --out bench/reports/milvus

Only dense vectors are stored (no text, no BM25), so this measures the vector engines alone.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import numpy as np

from qa.bench import http

DIM = 384
QUERIES = 200
K = 10
BATCH = 5_000


def _vectors(n: int, seed: int) -> np.ndarray:
    rng = np.random.default_rng(seed)
    out = np.empty((n, DIM), dtype=np.float32)
    for lo in range(0, n, 100_000):
        part = rng.standard_normal((min(100_000, n - lo), DIM), dtype=np.float32)
        out[lo : lo + len(part)] = part / np.linalg.norm(part, axis=1, keepdims=True)
    return out


def _rss_mb(pid: int) -> float:
    return http.memory_mb(pid).get("VmRSS", 0.0)


def _children(pid: int) -> list[int]:
    out = []
    for task in Path(f"/proc/{pid}/task").iterdir():
        try:
            kids = (task / "children").read_text().split()
        except OSError:
            continue
        for kid in kids:
            out.append(int(kid))
            out.extend(_children(int(kid)))
    return out


def _latencies(search: Any, queries: np.ndarray) -> tuple[list[float], list[list[int]]]:
    times, found = [], []
    for q in queries:
        started = time.perf_counter()
        rows = search(q)
        times.append((time.perf_counter() - started) * 1000)
        found.append(rows)
    return times, found


def _recall(found: list[list[int]], base: np.ndarray, queries: np.ndarray) -> float:
    exact = np.argpartition(-(queries @ base.T), K - 1, axis=1)[:, :K]  # sets: order is moot
    return float(np.mean([len(set(f) & set(e)) / K for f, e in zip(found, exact, strict=True)]))


def run_one(backend: str, index: str, n: int) -> dict[str, Any]:
    """Build one store of `n` vectors and measure it (called in a fresh process)."""
    base = _vectors(n, 0)
    queries = _vectors(QUERIES, 1)
    pid = os.getpid()
    rss_before = _rss_mb(pid)
    result: dict[str, Any] = {"backend": backend, "index": index, "n": n}
    if backend == "faiss":
        from qa.index.stores.faiss import FaissStore

        store = FaissStore(DIM) if index == "FLAT" else FaissStore.hnsw(DIM)
        started = time.perf_counter()
        store.add(base)
        result["build_s"] = time.perf_counter() - started

        def search(q: np.ndarray) -> list[int]:
            return [int(r) for r in store.search(q[None, :], K)[1][0]]

        server_rss = 0.0
    else:
        from pymilvus import DataType, MilvusClient

        from qa.index.stores.milvus import HNSW_EF_CONSTRUCTION, HNSW_EF_SEARCH, HNSW_M

        folder = tempfile.mkdtemp(prefix="milvus-bench-")
        client = MilvusClient(uri=str(Path(folder) / "bench.db"))
        schema = client.create_schema(auto_id=False)
        schema.add_field("id", DataType.INT64, is_primary=True)
        schema.add_field("dense", DataType.FLOAT_VECTOR, dim=DIM)
        params = client.prepare_index_params()
        if index == "HNSW":
            params.add_index(
                "dense",
                index_type="HNSW",
                metric_type="IP",
                params={"M": HNSW_M, "efConstruction": HNSW_EF_CONSTRUCTION},
            )
            search_params: dict[str, Any] = {"metric_type": "IP", "params": {"ef": HNSW_EF_SEARCH}}
        else:
            params.add_index("dense", index_type="FLAT", metric_type="IP")
            search_params = {"metric_type": "IP"}
        client.create_collection("bench", schema=schema, index_params=params)
        started = time.perf_counter()
        for lo in range(0, n, BATCH):
            part = base[lo : lo + BATCH]
            client.insert(
                "bench",
                [{"id": lo + i, "dense": v} for i, v in enumerate(part.tolist())],
            )
        result["insert_s"] = time.perf_counter() - started
        client.flush("bench")
        client.load_collection("bench")
        client.search("bench", data=[queries[0].tolist()], anns_field="dense", limit=K)
        result["build_s"] = time.perf_counter() - started

        def search(q: np.ndarray) -> list[int]:
            hits = client.search(
                "bench",
                data=[q.tolist()],
                anns_field="dense",
                limit=K,
                search_params=search_params,
            )
            return [int(h["id"]) for h in hits[0]]

        server_rss = sum(_rss_mb(p) for p in _children(pid))
        result["disk_mb"] = sum(
            f.stat().st_size for f in Path(folder).rglob("*") if f.is_file()
        ) / (1024 * 1024)
    search(queries[0])  # warm-up
    times, found = _latencies(search, queries)
    result["p50_ms"] = float(np.percentile(times, 50))
    result["p95_ms"] = float(np.percentile(times, 95))
    result["recall_at_10"] = _recall(found, base, queries)
    result["client_rss_mb"] = _rss_mb(pid) - rss_before
    result["server_rss_mb"] = server_rss or sum(_rss_mb(p) for p in _children(pid))
    result["vectors_mb"] = base.nbytes / (1024 * 1024)
    return result


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", type=int, nargs="+", default=[10_000, 100_000])
    parser.add_argument("--indexes", nargs="+", default=["FLAT", "HNSW"])
    parser.add_argument("--backends", nargs="+", default=["faiss", "milvus"])
    parser.add_argument("--out", type=Path, default=Path("bench/reports/milvus"))
    parser.add_argument("--one", nargs=3, metavar=("BACKEND", "INDEX", "N"), help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.one:
        print(json.dumps(run_one(args.one[0], args.one[1], int(args.one[2]))))
        return
    args.out.mkdir(parents=True, exist_ok=True)
    results = []
    for n in args.sizes:
        for index in args.indexes:
            for backend in args.backends:
                cmd = [sys.executable, "-m", "qa.bench.milvus_scaling", "--one", backend, index]
                done = subprocess.run([*cmd, str(n)], capture_output=True, text=True, check=False)
                if done.returncode != 0:
                    row: dict[str, Any] = {
                        "backend": backend,
                        "index": index,
                        "n": n,
                        "error": done.stderr.strip().splitlines()[-1:],
                    }
                else:
                    row = json.loads(done.stdout.strip().splitlines()[-1])
                results.append(row)
                print(json.dumps(row), flush=True)
                (args.out / "results.json").write_text(json.dumps(results, indent=2) + "\n")
    (args.out / "results.md").write_text(markdown(results))


def markdown(results: list[dict[str, Any]]) -> str:
    """One table row per run."""
    lines = [
        "| n | index | backend | build s | p50 ms | p95 ms | recall@10 | RSS growth MB |",
        "|---:|---|---|---:|---:|---:|---:|---:|",
    ]
    for r in results:
        if "error" in r:
            lines.append(f"| {r['n']} | {r['index']} | {r['backend']} | error: {r['error']} |")
            continue
        recall = "" if r.get("recall_at_10") is None else f"{r['recall_at_10']:.3f}"
        lines.append(
            f"| {r['n']:,} | {r['index']} | {r['backend']} | {r['build_s']:.1f} | "
            f"{r['p50_ms']:.2f} | {r['p95_ms']:.2f} | {recall} | "
            f"{r['client_rss_mb'] + r['server_rss_mb']:.0f} |"
        )
    return "\n".join(lines) + "\n"


if __name__ == "__main__":
    main()
