"""Query latency and recall@10 against exact search as the number of vectors grows.

Vectors are synthetic but shaped like real ones: Gaussian with the mean and covariance of real
all-MiniLM-L6-v2 sentence embeddings (so the same few directions dominate), then L2-normalised.
Plain isotropic noise would be much harder for any approximate index than real text is, and
copies of real vectors with noise would be easier.

Each size gets exact search (`IndexFlatIP`, the reference), HNSW over a sweep of efSearch, and
IVF-Flat over a sweep of nprobe. Latency is one query at a time on one thread, as the service
asks. The resident memory of a server-like process (load the saved index memory-mapped, then
query) is measured for HNSW, in a child process, at the largest size.
"""

from __future__ import annotations

import json
import math
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from qa.bench.context import Context, seed_sentences, write_corpus
from qa.bench.loadgen import percentile
from qa.index.stores.faiss import HNSW_EF_CONSTRUCTION, HNSW_M

if TYPE_CHECKING:
    from numpy.typing import NDArray

RECALL_TARGET = 0.98
K = 10
EF_SWEEP = (16, 32, 64, 128, 256, 512, 1024, 2048, 4096)
NPROBE_SWEEP = (8, 16, 32, 64, 128, 256, 512, 1024, 2048)
# (M, efConstruction) of the HNSW graphs compared; the store's own is among them.
HNSW_VARIANTS = tuple(dict.fromkeys(((32, 80), (64, 100), (HNSW_M, HNSW_EF_CONSTRUCTION))))
# A sweep stops once recall is this high or a query this slow: more would only cost time.
STOP_RECALL = 0.995
STOP_MS = 60.0


def _enough(point: dict[str, Any]) -> bool:
    return bool(point["recall@10"] >= STOP_RECALL or point["p50_ms"] > STOP_MS)


def _chosen(sweep: list[dict[str, Any]]) -> dict[str, Any] | None:
    """The cheapest setting that reaches the recall target, or None."""
    return next((p for p in sweep if p["recall@10"] >= RECALL_TARGET), None)


class Spectrum:
    """Draws vectors with the mean and covariance of `real` (rows: real embeddings)."""

    def __init__(self, real: NDArray[np.float32], seed: int = 0) -> None:
        real = np.asarray(real, dtype=np.float64)
        self.mean = real.mean(axis=0)
        _, s, vt = np.linalg.svd(real - self.mean, full_matrices=False)
        scale = s / math.sqrt(max(1, len(real) - 1))
        # A floor for the directions few real vectors could not estimate.
        floor = float(scale[scale > 0].min()) if (scale > 0).any() else 1e-3
        full = np.full(real.shape[1], floor)
        full[: len(scale)] = np.maximum(scale, floor)
        # Fewer real vectors than dimensions: complete the basis with random directions.
        extra = np.random.default_rng(seed + 1).standard_normal(
            (real.shape[1] - len(vt), real.shape[1])
        )
        basis = np.vstack([vt, extra]) if len(extra) else vt
        q, _ = np.linalg.qr(basis.T)
        self.transform = (full[:, None] * q.T).astype(np.float32)
        self.rng = np.random.default_rng(seed)

    def draw(self, n: int, chunk: int = 100_000) -> NDArray[np.float32]:
        dim = self.transform.shape[0]
        out = np.empty((n, dim), dtype=np.float32)
        for lo in range(0, n, chunk):
            m = min(chunk, n - lo)
            z = self.rng.standard_normal((m, dim), dtype=np.float32)
            x = z @ self.transform + self.mean.astype(np.float32)
            out[lo : lo + m] = x / np.linalg.norm(x, axis=1, keepdims=True)
        return out


def recall_at_k(found: NDArray[np.int64], truth: NDArray[np.int64], k: int = K) -> float:
    hits = sum(len(set(f[:k]) & set(t[:k])) for f, t in zip(found, truth, strict=True))
    return hits / (k * len(truth))


def _timed_search(index: Any, queries: NDArray[np.float32]) -> tuple[Any, dict[str, float]]:
    """Rows found for each query, searched one at a time, and the latency percentiles."""
    rows, times = [], []
    index.search(queries[:1], K)  # warm caches
    for q in queries:
        started = time.perf_counter()
        rows.append(index.search(q[None, :], K)[1][0])
        times.append((time.perf_counter() - started) * 1000)
    lat = {
        "p50_ms": round(percentile(times, 50), 4),
        "p95_ms": round(percentile(times, 95), 4),
        "p99_ms": round(percentile(times, 99), 4),
    }
    return np.asarray(rows), lat


def curve(
    real: NDArray[np.float32],
    sizes: Sequence[int],
    *,
    queries: int = 200,
    rss_size: int | None = None,
    threads: int = 2,
    log: Callable[[str], None] = print,
) -> dict[str, Any]:
    """The scaling table: per size and index type, build time, latency, recall@10 (and RSS)."""
    import faiss

    spectrum = Spectrum(real)
    qs = spectrum.draw(queries)
    dim = qs.shape[1]
    out: dict[str, Any] = {"k": K, "queries": queries, "dimension": dim, "sizes": {}}
    for n in sizes:
        log(f"scaling: {n} vectors")
        base = spectrum.draw(n)
        row: dict[str, Any] = {}
        faiss.omp_set_num_threads(threads)
        flat = faiss.IndexFlatIP(dim)
        flat.add(base)
        _, truth = flat.search(qs, K)  # batched, all threads: the reference
        faiss.omp_set_num_threads(1)  # the service answers one question per core
        found, lat = _timed_search(flat, qs)
        row["flat"] = {"recall@10": recall_at_k(found, truth), **lat, "build_s": 0.0}
        del flat
        for m, ef_construction in HNSW_VARIANTS:
            probe = rss_size is not None and n == rss_size
            entry = _hnsw(base, qs, truth, m, ef_construction, threads, log if probe else None)
            row[f"hnsw_m{m}_efc{ef_construction}"] = entry
        row["ivf_flat"] = _ivf_flat(base, qs, truth, threads)
        del base
        out["sizes"][str(n)] = row
    return out


def _hnsw(
    base: NDArray[np.float32],
    qs: NDArray[np.float32],
    truth: NDArray[np.int64],
    m: int,
    ef_construction: int,
    threads: int,
    rss_log: Callable[[str], None] | None,
) -> dict[str, Any]:
    """An HNSW graph over `base`: build time and the efSearch sweep (and, given `rss_log`, the
    resident memory of a server-like process at the chosen efSearch)."""
    import faiss

    faiss.omp_set_num_threads(threads)
    hnsw = faiss.IndexHNSWFlat(base.shape[1], m, faiss.METRIC_INNER_PRODUCT)
    hnsw.hnsw.efConstruction = ef_construction
    started = time.perf_counter()
    hnsw.add(base)
    build_s = time.perf_counter() - started
    faiss.omp_set_num_threads(1)
    sweep = []
    for ef in EF_SWEEP:
        hnsw.hnsw.efSearch = ef
        found, lat = _timed_search(hnsw, qs)
        sweep.append({"efSearch": ef, "recall@10": recall_at_k(found, truth), **lat})
        if _enough(sweep[-1]):
            break
    entry: dict[str, Any] = {
        "M": m,
        "efConstruction": ef_construction,
        "build_s": round(build_s, 2),
        "sweep": sweep,
        "chosen": _chosen(sweep),
    }
    if rss_log is not None and entry["chosen"] is not None:
        hnsw.hnsw.efSearch = int(entry["chosen"]["efSearch"])
        entry["server_rss"] = _rss_probe(hnsw, qs, rss_log)
    return entry


def _ivf_flat(
    base: NDArray[np.float32], qs: NDArray[np.float32], truth: NDArray[np.int64], threads: int
) -> dict[str, Any]:
    """An IVF-Flat index over `base`: build (training included) time and the nprobe sweep."""
    import faiss

    n, dim = base.shape
    faiss.omp_set_num_threads(threads)
    # ~4·sqrt(n) lists, each trained on >= 40 points (FAISS's own rule of thumb).
    nlist = max(4, min(int(4 * math.sqrt(n)), n // 40))
    quantizer = faiss.IndexFlatIP(dim)
    ivf = faiss.IndexIVFFlat(quantizer, dim, nlist, faiss.METRIC_INNER_PRODUCT)
    started = time.perf_counter()
    sample = base[np.random.default_rng(1).choice(n, min(n, 40 * nlist), replace=False)]
    ivf.train(sample)
    ivf.add(base)
    build_s = time.perf_counter() - started
    faiss.omp_set_num_threads(1)
    sweep = []
    for nprobe in NPROBE_SWEEP:
        if nprobe > nlist:
            break
        ivf.nprobe = nprobe
        found, lat = _timed_search(ivf, qs)
        sweep.append({"nprobe": nprobe, "recall@10": recall_at_k(found, truth), **lat})
        if _enough(sweep[-1]):
            break
    return {
        "nlist": nlist,
        "build_s": round(build_s, 2),
        "sweep": sweep,
        "chosen": _chosen(sweep),
    }


PROBE = """
import json, sys, time
import numpy as np, faiss
faiss.omp_set_num_threads(1)
index = faiss.read_index(sys.argv[1], faiss.IO_FLAG_MMAP_IFC)
qs = np.load(sys.argv[2])
times = []
for q in qs:
    t = time.perf_counter(); index.search(q[None, :], 10); times.append(time.perf_counter() - t)
peak = [int(l.split()[1]) for l in open("/proc/self/status") if l.startswith("VmHWM:")][0]
print(json.dumps({"rss_mb": round(peak / 1024, 1), "p50_ms": sorted(times)[len(times)//2]*1000}))
"""


def _rss_probe(index: Any, queries: NDArray[np.float32], log: Callable[[str], None]) -> Any:
    """Peak RSS of a fresh process that loads the saved index (memory-mapped) and queries it."""
    import faiss

    with tempfile.TemporaryDirectory(prefix="qa-rss-") as work:
        path = Path(work) / "index.faiss"
        faiss.write_index(index, str(path))
        np.save(Path(work) / "q.npy", queries)
        done = subprocess.run(
            [sys.executable, "-c", PROBE, str(path), str(Path(work) / "q.npy")],
            capture_output=True,
            text=True,
            timeout=600,
            check=True,
        )
    result = json.loads(done.stdout.strip().splitlines()[-1])
    log(f"scaling: server-like process over {index.ntotal} vectors peaks at {result['rss_mb']} MB")
    return result


def _squad_sentences(ctx: Context) -> list[str]:
    squad = ctx.config.squad
    if squad is None or not squad.is_file() or ctx.config.squad_articles:
        return []
    from qa.evaluation.datasets import load_squad

    texts, _ = load_squad(squad)
    return seed_sentences(write_corpus(texts, ctx.work / "squad-sentences"))


def measure_scaling(ctx: Context) -> None:
    """The `scaling` section of `qa bench`: `curve` over vectors shaped like this run's."""
    real = ctx.real_vectors
    if real is None:
        # The shape of the synthetic vectors is only as good as the covariance behind it: take
        # the squad2-dev-half sentences (thousands) when present, else the seed sentences.
        texts = _squad_sentences(ctx) or (seed_sentences(ctx.config.seeds) + ctx.questions)
        real = ctx.embedder(ctx.config.encoder).encode(texts)
    sizes = ctx.config.scaling_sizes
    ctx.results["scaling"] = curve(
        real,
        sizes,
        queries=ctx.config.scaling_queries,
        rss_size=max(sizes) if sizes else None,
        threads=ctx.threads,
        log=ctx.log,
    )
    ctx.results["scaling"]["real_vectors"] = len(real)
