"""The `encoders` section of `qa bench`: one-question encode time, batch throughput, and the
cosine of each ONNX encoder to torch fp32 (the reference every target is relative to)."""

from __future__ import annotations

import time
from contextlib import ExitStack
from typing import TYPE_CHECKING

import numpy as np

from qa.bench.context import Context, seed_sentences, stats_ms

if TYPE_CHECKING:
    from numpy.typing import NDArray

    from qa.embed.model import Embedder


def measure_encoders(ctx: Context) -> None:
    """Single-question encode time, batch throughput, and cosine to torch fp32."""
    sentences = seed_sentences(ctx.config.seeds)
    batch = _batch_texts(ctx)
    reference: NDArray[np.float32] | None = None
    encoders = list(dict.fromkeys([*ctx.config.compare, ctx.config.encoder]))
    for encoder in encoders:
        embedder = ctx.embedder(encoder)
        entry = ctx.results["encoders"][encoder]
        if encoder == "torch":
            # torch's OpenMP pool degrades badly when another process holds a core; the
            # reference is the better of all threads and one thread, so it is never inflated.
            entry["query_all_threads"] = _query_times(ctx, embedder)
            entry["query_one_thread"] = _query_times(ctx, embedder, torch_threads=1)
            best = min(
                entry["query_all_threads"], entry["query_one_thread"], key=lambda x: x["p50_ms"]
            )
            entry["query"] = best
        else:
            entry["query"] = _query_times(ctx, embedder)
        started = time.perf_counter()
        embedder.encode(batch, batch_size=64)
        per_s = len(batch) / (time.perf_counter() - started)
        vectors = embedder.encode(sentences)
        entry["batch_texts_per_s"] = round(per_s, 1)
        if encoder == "torch":
            reference = vectors
        elif reference is not None:
            cosine = np.sum(vectors * reference, axis=1)
            entry["cosine_to_torch"] = {
                "sentences": len(sentences),
                "min": round(float(cosine.min()), 5),
                "mean": round(float(cosine.mean()), 5),
            }
        ctx.log(f"{encoder}: query p50 {entry['query']['p50_ms']} ms, batch {per_s:.0f}/s")


def _query_times(ctx: Context, embedder: Embedder, torch_threads: int = 0) -> dict[str, float]:
    """One-question encode times over the question set (torch on `torch_threads` if given)."""
    with ExitStack() as stack:
        if torch_threads:
            import torch

            stack.callback(torch.set_num_threads, torch.get_num_threads())
            torch.set_num_threads(torch_threads)
        embedder.encode(ctx.questions[:2])  # warm up
        times = []
        for i in range(ctx.config.encodes):
            question = ctx.questions[i % len(ctx.questions)]
            started = time.perf_counter()
            embedder.encode([question])
            times.append(time.perf_counter() - started)
    return stats_ms(times)


def _batch_texts(ctx: Context) -> list[str]:
    """A fixed batch of real sentences for throughput (the SQuAD contexts, else the seeds)."""
    texts: list[str] = []
    if ctx.config.squad is not None and ctx.config.squad.is_file():
        from qa.evaluation.datasets import load_squad

        articles, _ = load_squad(ctx.config.squad)
        for text in articles.values():
            texts.extend(p.strip() for p in text.replace("\n\n", ". ").split(". ") if p.strip())
    texts = texts or seed_sentences(ctx.config.seeds)
    size = 1024 if ctx.config.encodes >= 100 else 64
    return (texts * (size // max(1, len(texts)) + 1))[:size]
