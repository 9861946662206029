"""The benchmark suite behind `qa bench`: every figure of the performance targets, in one run.

Sections (each can be skipped):

- encoders: one-question encode time and batch throughput of torch fp32 (the reference every
  target is relative to), ONNX fp32 and ONNX int8; cosine of each ONNX encoder to torch on the
  seed sentences.
- inproc: `Engine.ask` latency on the seed corpus (no HTTP).
- build: index build throughput on squad2-dev-half with torch and with the default encoder,
  top-1 of both on its answerable questions, and a build of a corpus of >= 100k sentences.
- http: cold start and peak RSS of `qa serve`, then latency and throughput at 1, 4 and 16
  connections from a separate load-generator process on loopback (also with torch, and with
  two workers, for comparison).
- scaling: query latency and recall@10 of flat, HNSW and IVF at 10k, 100k and 1M vectors.
"""

from __future__ import annotations

import json
import platform
import shutil
import tempfile
import time
from collections.abc import Callable
from dataclasses import asdict
from pathlib import Path
from typing import Any

from qa.bench.build import measure_build
from qa.bench.context import DEFAULT_QUESTIONS, SECTIONS, BenchConfig, Context
from qa.bench.encoders import measure_encoders
from qa.bench.memory import measure_memory
from qa.bench.scaling import measure_scaling
from qa.bench.serving import measure_http, measure_inproc
from qa.core.runtime import cores, limit_threads


def run_bench(config: BenchConfig, log: Callable[[str], None] = print) -> tuple[Path, Path]:
    """Run the suite; write a JSON and a Markdown report; return their paths."""
    from qa.bench.report import markdown, targets

    threads = limit_threads(config.threads)
    work = Path(tempfile.mkdtemp(prefix="qa-bench-"))
    ctx = Context(config, work, threads, log)
    ctx.questions = _questions(config.gold)
    started = time.perf_counter()
    origin: dict[str, str] = {}
    if config.update is not None:
        previous = json.loads(config.update.read_text(encoding="utf-8"))
        ctx.results.update({k: v for k, v in previous.items() if k in SECTIONS})
        meta = previous.get("meta", {})
        earlier = f"run of {meta.get('started_at', '?')}"
        for name, source in meta.get("sections_from", {name: "" for name in SECTIONS}).items():
            origin[name] = earlier if source in ("", "this run") else source
    ctx.results["meta"] = _meta(config, threads)
    ctx.results["meta"]["sections_from"] = {
        name: ("this run" if name in config.sections else origin.get(name, "?"))
        for name in SECTIONS
        if name in config.sections or name in ctx.results
    }
    try:
        for name, section in (
            ("encoders", measure_encoders),
            ("inproc", measure_inproc),
            ("build", measure_build),
            ("http", measure_http),
            ("memory", measure_memory),
            ("scaling", measure_scaling),
        ):
            if name in config.sections:
                ctx.results.pop(name, None)
                log(f"== {name}")
                begun = time.perf_counter()
                section(ctx)
                spent = round(time.perf_counter() - begun, 1)
                ctx.results["meta"].setdefault("section_seconds", {})[name] = spent
    finally:
        if not config.keep_work:
            shutil.rmtree(work, ignore_errors=True)
    ctx.results["meta"]["seconds"] = round(time.perf_counter() - started, 1)
    ctx.results["targets"] = targets(ctx.results)
    config.out.mkdir(parents=True, exist_ok=True)
    stamp = time.strftime("%Y%m%d-%H%M%S")
    json_path = config.out / f"bench-{stamp}.json"
    md_path = config.out / f"bench-{stamp}.md"
    json_path.write_text(json.dumps(ctx.results, indent=2, default=str) + "\n")
    md_path.write_text(markdown(ctx.results), encoding="utf-8")
    complete = set(config.sections) == set(SECTIONS) or config.update is not None
    if config.write_latest and complete:  # a partial run never replaces the latest report
        shutil.copyfile(md_path, config.out / "latest.md")
        shutil.copyfile(json_path, config.out / "latest.json")
    return json_path, md_path


def _meta(config: BenchConfig, threads: int) -> dict[str, Any]:
    from qa.core.versions import library_versions

    cpu = "unknown"
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    versions = library_versions(
        ("qa", "torch", "sentence-transformers", "onnxruntime", "faiss-cpu", "numpy")
    )
    return {
        "started_at": time.strftime("%Y-%m-%dT%H:%M:%S%z"),
        "cores": cores(),
        "threads": threads,
        "cpu": cpu,
        "python": platform.python_version(),
        "libraries": versions,
        "load_tool": "wrk" if shutil.which("wrk") and config.load_tool != "python" else "python",
        "config": {k: str(v) for k, v in asdict(config).items()},
    }


def _questions(gold: Path) -> list[str]:
    try:
        lines = gold.read_text(encoding="utf-8").splitlines()
        found = [json.loads(x)["question"] for x in lines if x.strip()]
    except (OSError, ValueError, KeyError):
        found = []
    return found or list(DEFAULT_QUESTIONS)
