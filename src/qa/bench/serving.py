"""The `inproc` and `http` sections of `qa bench`: `Engine.ask` latency in this process, then
cold start, peak RSS and load levels of `qa serve` (default encoder, torch, several workers)."""

from __future__ import annotations

import statistics
import time
from collections.abc import Sequence
from typing import Any

from qa.bench import http
from qa.bench.context import Context, stats_ms


def measure_inproc(ctx: Context) -> None:
    """`Engine.ask` on the seed corpus, in this process."""
    from qa.engine.engine import Engine

    for encoder in _served_encoders(ctx):
        settings = ctx.settings(encoder=encoder, index_dir=ctx.work / f"seeds-{encoder}")
        engine, _ = Engine.open(settings, embedder=ctx.embedder(encoder))
        for q in ctx.questions[:5]:
            engine.ask(q)
        times = []
        for i in range(ctx.config.asks):
            started = time.perf_counter()
            engine.ask(ctx.questions[i % len(ctx.questions)])
            times.append(time.perf_counter() - started)
        ctx.results.setdefault("inproc", {})[encoder] = stats_ms(times)
        ctx.log(f"in-process ask ({encoder}): {ctx.results['inproc'][encoder]}")


def _served_encoders(ctx: Context) -> list[str]:
    encoders = [ctx.config.encoder]
    if ctx.config.compare_torch_server and "torch" not in encoders:
        encoders.append("torch")
    return encoders


def measure_http(ctx: Context) -> None:
    """Cold start, peak RSS and load levels for `qa serve` (default encoder, torch, workers)."""
    config = ctx.config
    out: dict[str, Any] = {}
    ctx.results["http"] = out
    bodies = [{"question": q, "top_k": 3} for q in ctx.questions]
    for encoder in _served_encoders(ctx):
        index_dir = ctx.work / f"seeds-{encoder}"
        if not (index_dir / "current").exists():  # inproc was skipped: build it here
            from qa.engine.engine import Engine

            Engine.open(
                ctx.settings(encoder=encoder, index_dir=index_dir), embedder=ctx.embedder(encoder)
            )
        env = server_env(ctx, encoder)
        default = encoder == config.encoder
        starts = []
        for _ in range(max(0, config.cold_starts - 1) if default else 0):
            with http.serve(config.seeds, index_dir, env, log_dir=ctx.work) as server:
                starts.append(server.ready_seconds)
        with http.serve(config.seeds, index_dir, env, log_dir=ctx.work) as server:
            starts.append(server.ready_seconds)
            entry: dict[str, Any] = {
                "cold_start_s": [round(s, 3) for s in starts],
                "cold_start_median_s": round(statistics.median(starts), 3),
            }
            levels = config.connections if default else (1,)
            entry["levels"] = _levels(ctx, server, bodies, levels)
            entry["rss"] = http.peak_rss_mb(server.process.pid)
        out[encoder] = entry
        ctx.log(f"http ({encoder}): cold start {starts}, rss {entry['rss']}")
    for workers in config.workers:
        env = server_env(ctx, config.encoder)
        env.pop("QA_THREADS", None)  # each worker takes its share of the cores
        index_dir = ctx.work / f"seeds-{config.encoder}"
        with http.serve(config.seeds, index_dir, env, workers=workers, log_dir=ctx.work) as server:
            entry = {
                "cold_start_s": round(server.ready_seconds, 3),
                "levels": _levels(ctx, server, bodies, config.connections),
                "rss": http.peak_rss_mb(server.process.pid),
            }
        out[f"{config.encoder}-workers{workers}"] = entry
        ctx.log(f"http ({workers} workers): {entry['levels']}")


def server_env(ctx: Context, encoder: str) -> dict[str, str]:
    env = {"QA_ENCODER": encoder, "QA_THREADS": str(ctx.threads)}
    if ctx.config.encoder_cache is not None:
        env["QA_ENCODER_CACHE"] = str(ctx.config.encoder_cache)
    return env


def _levels(
    ctx: Context, server: http.Server, bodies: list[dict[str, Any]], levels: Sequence[int]
) -> dict[str, Any]:
    config = ctx.config
    results = {}
    for connections in levels:
        # Warm up at this concurrency, then measure.
        http.load(
            server.url,
            bodies,
            connections,
            min(1.0, config.duration),
            200,
            tool=config.load_tool,
            work=ctx.work,
        )
        results[str(connections)] = http.load(
            server.url,
            bodies,
            connections,
            config.duration,
            config.max_requests,
            tool=config.load_tool,
            work=ctx.work,
        )
    return results
