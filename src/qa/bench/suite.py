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
import math
import platform
import shutil
import statistics
import tempfile
import time
from collections.abc import Callable, Sequence
from contextlib import ExitStack
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from qa.bench import http, scaling
from qa.bench.loadgen import percentile
from qa.core.runtime import cores, limit_threads
from qa.core.settings import Settings

if TYPE_CHECKING:
    from numpy.typing import NDArray

    from qa.embed.model import Embedder
    from qa.evaluation.datasets import EvalItem
    from qa.index.index import Index

SECTIONS = ("encoders", "inproc", "build", "http", "scaling")
DEFAULT_QUESTIONS = (
    "Who is the Prime Minister of Japan?",
    "Who will host the next Quad summit?",
    "When did the two ministries sign the chip agreement?",
    "Have the ministries met since then?",
    "What is the capital of France?",
    "Which countries agreed to cooperate on semiconductors?",
)


@dataclass(frozen=True)
class BenchConfig:
    """What to run and how big; `smoke()` gives the seconds-long version CI runs."""

    out: Path = Path("bench/reports")
    seeds: Path = Path("seeds")
    gold: Path = Path("eval/gold.jsonl")
    squad: Path | None = Path("../shared/datasets/squad2-dev-half/dev-v2.0.json")
    xquad: Path | None = Path("../shared/datasets/xquad-en/xquad.en.json")
    sections: tuple[str, ...] = SECTIONS
    encoder: str = "onnx-int8"
    # Encoders compared in the `encoders` section; torch fp32 is the reference of the targets.
    compare: tuple[str, ...] = ("torch", "onnx-fp32", "onnx-int8")
    encoder_cache: Path | None = None
    threads: int = 0
    asks: int = 300
    encodes: int = 200
    squad_articles: int = 0  # 0 = all of them
    quality_questions: int = 0  # 0 = every answerable question
    big_sentences: int = 100_000
    reference_build: bool = True  # also build with torch fp32 (the build target's reference)
    connections: tuple[int, ...] = (1, 4, 16)
    duration: float = 10.0
    max_requests: int = 50_000
    cold_starts: int = 3
    compare_torch_server: bool = True
    workers: tuple[int, ...] = (2,)
    scaling_sizes: tuple[int, ...] = (10_000, 100_000, 1_000_000)
    scaling_queries: int = 200
    load_tool: str = "auto"
    keep_work: bool = False
    write_latest: bool = True
    # A previous run's JSON: its figures are kept for the sections not run now.
    update: Path | None = None

    @classmethod
    def smoke(cls, out: Path, **overrides: Any) -> BenchConfig:
        """Tiny sizes: exercises every code path in seconds; its figures mean nothing."""
        values: dict[str, Any] = {
            "out": out,
            "asks": 20,
            "encodes": 10,
            "compare": ("onnx-int8",),  # torch costs seconds to load; e2e tests cover it
            "squad_articles": 2,
            "quality_questions": 10,
            "big_sentences": 0,
            "reference_build": False,
            "connections": (1, 4),
            "duration": 1.0,
            "max_requests": 200,
            "cold_starts": 1,
            "compare_torch_server": False,
            "workers": (),
            "scaling_sizes": (1_000, 3_000),
            "scaling_queries": 20,
            "write_latest": False,
        }
        values.update(overrides)
        return cls(**values)


@dataclass
class Context:
    """State shared by the sections of one run."""

    config: BenchConfig
    work: Path
    threads: int
    log: Callable[[str], None]
    embedders: dict[str, Embedder] = field(default_factory=dict)
    questions: list[str] = field(default_factory=list)
    real_vectors: NDArray[np.float32] | None = None
    results: dict[str, Any] = field(default_factory=dict)

    def settings(self, **values: Any) -> Settings:
        base: dict[str, Any] = {
            "seeds_dir": self.config.seeds,
            "encoder": self.config.encoder,
            "encoder_cache": self.config.encoder_cache,
            "threads": self.threads,
        }
        return Settings(**{**base, **values})

    def embedder(self, encoder: str) -> Embedder:
        """Load (once) the embedder for `encoder`, timing the load."""
        if encoder not in self.embedders:
            from qa.embed.loader import ModelLoader

            started = time.perf_counter()
            loader = ModelLoader(self.settings(encoder=encoder))
            weights = loader.weights_sha256  # exports the ONNX encoder when it is not cached
            exported = time.perf_counter() - started
            self.embedders[encoder] = loader.get()
            loaded = time.perf_counter() - started
            self.results.setdefault("encoders", {}).setdefault(encoder, {}).update(
                {
                    "weights_sha256": weights,
                    "prepare_s": round(exported, 3),
                    "load_s": round(loaded, 3),
                }
            )
            self.log(f"loaded the {encoder} encoder in {loaded:.1f} s")
        return self.embedders[encoder]


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
            ("encoders", _encoders),
            ("inproc", _inproc),
            ("build", _build),
            ("http", _http),
            ("scaling", _scaling),
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
    from importlib import metadata

    cpu = "unknown"
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    versions = {}
    for name in ("qa", "torch", "sentence-transformers", "onnxruntime", "faiss-cpu", "numpy"):
        try:
            versions[name] = metadata.version(name)
        except metadata.PackageNotFoundError:
            versions[name] = "absent"
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


def _stats_ms(times_s: Sequence[float]) -> dict[str, float]:
    ms = [t * 1000 for t in times_s]
    return {
        "n": len(ms),
        "p50_ms": round(percentile(ms, 50), 3),
        "p95_ms": round(percentile(ms, 95), 3),
        "p99_ms": round(percentile(ms, 99), 3),
    }


# ---------------------------------------------------------------------------------- sections


def _squad_sentences(ctx: Context) -> list[str]:
    squad = ctx.config.squad
    if squad is None or not squad.is_file() or ctx.config.squad_articles:
        return []
    from qa.evaluation.datasets import load_squad

    texts, _ = load_squad(squad)
    return _seed_sentences(_write_corpus(texts, ctx.work / "squad-sentences"))


def _seed_sentences(seeds: Path) -> list[str]:
    from qa.corpus.documents import read_corpus

    documents, _ = read_corpus(seeds)
    return [d.text[s.start : s.end] for d in documents for s in d.sentences]


def _encoders(ctx: Context) -> None:
    """Single-question encode time, batch throughput, and cosine to torch fp32."""
    sentences = _seed_sentences(ctx.config.seeds)
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
    return _stats_ms(times)


def _batch_texts(ctx: Context) -> list[str]:
    """A fixed batch of real sentences for throughput (the SQuAD contexts, else the seeds)."""
    texts: list[str] = []
    if ctx.config.squad is not None and ctx.config.squad.is_file():
        from qa.evaluation.datasets import load_squad

        articles, _ = load_squad(ctx.config.squad)
        for text in articles.values():
            texts.extend(p.strip() for p in text.replace("\n\n", ". ").split(". ") if p.strip())
    texts = texts or _seed_sentences(ctx.config.seeds)
    size = 1024 if ctx.config.encodes >= 100 else 64
    return (texts * (size // max(1, len(texts)) + 1))[:size]


def _inproc(ctx: Context) -> None:
    """`Engine.ask` on the seed corpus, in this process."""
    from qa.service.engine import Engine

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
        ctx.results.setdefault("inproc", {})[encoder] = _stats_ms(times)
        ctx.log(f"in-process ask ({encoder}): {ctx.results['inproc'][encoder]}")


def _served_encoders(ctx: Context) -> list[str]:
    encoders = [ctx.config.encoder]
    if ctx.config.compare_torch_server and "torch" not in encoders:
        encoders.append("torch")
    return encoders


def _build(ctx: Context) -> None:
    """Build throughput (sentences/s) and top-1 on squad2-dev-half; then a >= 100k corpus."""
    config = ctx.config
    out: dict[str, Any] = {}
    ctx.results["build"] = out
    if config.squad is None or not config.squad.is_file():
        ctx.log(f"build: no SQuAD file at {config.squad}; skipped")
        return
    from qa.evaluation.datasets import load_squad

    texts, items = load_squad(config.squad)
    if config.squad_articles:
        keep = sorted(texts, key=lambda d: len(texts[d]))[: config.squad_articles]
        texts = {d: texts[d] for d in keep}
        items = [i for i in items if i.doc_id in texts]
    seeds = _write_corpus(texts, ctx.work / "squad" / "seeds")
    answerable = [i for i in items if i.answerable]
    if config.quality_questions:
        step = max(1, len(answerable) // config.quality_questions)
        answerable = answerable[::step][: config.quality_questions]
    squad: dict[str, Any] = {"articles": len(texts), "questions": len(answerable)}
    out["squad2-dev-half"] = squad
    encoders = ["torch"] if config.reference_build else []
    for encoder in [*encoders, config.encoder]:
        if encoder in squad:
            continue
        index, seconds = _timed_build(ctx, seeds, ctx.work / "squad" / f"index-{encoder}", encoder)
        counts = index.manifest["counts"]
        squad[encoder] = {
            "sentences": counts["sentences"],
            "texts_embedded": counts["embedded"],
            "seconds": round(seconds, 2),
            "sentences_per_s": round(counts["sentences"] / seconds, 1),
            "top1": _top1(ctx, index, encoder, answerable),
        }
        if encoder == config.encoder:
            ctx.real_vectors = np.asarray(index.sentence_vectors)
        ctx.log(f"squad build ({encoder}): {squad[encoder]}")
    if config.big_sentences:
        out["big"] = _big_build(ctx)


def _timed_build(ctx: Context, seeds: Path, index_dir: Path, encoder: str) -> tuple[Index, float]:
    from qa.embed.loader import ModelLoader
    from qa.service.startup import prepare_index

    embedder = ctx.embedder(encoder)  # loaded before the clock starts
    settings = ctx.settings(encoder=encoder, seeds_dir=seeds, index_dir=index_dir)
    started = time.perf_counter()
    index, _ = prepare_index(settings, ModelLoader(settings, embedder))
    return index, time.perf_counter() - started


def _top1(ctx: Context, index: Index, encoder: str, items: list[EvalItem]) -> dict[str, Any]:
    """Share of answerable questions whose first citation (and whose nearest sentence by the
    encoder alone) overlaps the gold answer inside its paragraph."""
    from qa.answer.ranker import Ranker
    from qa.service.engine import Engine

    if not items:
        return {}
    settings = ctx.settings(encoder=encoder)
    embedder = ctx.embedder(encoder)
    engine = Engine(settings, embedder, index, Ranker.load(settings.ranker))
    cited = 0
    for item in items:
        answer = engine.ask(item.question)
        first = answer.citations[0] if answer.citations else None
        if first is not None and _hit(item, first.doc_id, first.start, first.end):
            cited += 1
    vectors = embedder.encode([i.question for i in items])
    _, rows = index.sentence_store.search(vectors, 1)
    dense = 0
    for item, row in zip(items, rows[:, 0], strict=True):
        doc, span, _ = index.span(int(row))
        dense += _hit(item, doc.doc_id, span.start, span.end)
    return {
        "questions": len(items),
        "answer_top1": round(100 * cited / len(items), 2),
        "dense_top1": round(100 * dense / len(items), 2),
    }


def _hit(item: EvalItem, doc_id: str, start: int, end: int) -> bool:
    if doc_id != item.doc_id:
        return False
    if item.region is not None and not (item.region[0] <= start and end <= item.region[1]):
        return False
    return any(start < e and s < end for s, e in item.spans)


def _write_corpus(texts: dict[str, str], folder: Path) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    for doc_id, text in texts.items():
        (folder / f"{doc_id}.txt").write_text(text, encoding="utf-8")
    return folder


_DIGITS = "0123456789"


def perturbed_copy(text: str, k: int) -> str:
    """Copy `k` of an article: paragraphs rotated by k, every digit shifted by k (mod 10).

    Same sentence lengths and vocabulary as the original, so embedding cost is representative,
    yet no two copies are the same text (no article hash, vector or BM25 row repeats exactly).
    """
    paragraphs = text.split("\n\n")
    shift = k % len(paragraphs)
    rotated = paragraphs[shift:] + paragraphs[:shift]
    table = str.maketrans(_DIGITS, _DIGITS[k % 10 :] + _DIGITS[: k % 10])
    return "\n\n".join(rotated).translate(table)


def big_corpus(sources: Sequence[Path], folder: Path, sentences: int) -> dict[str, Any]:
    """Write >= `sentences` sentences of articles: the SQuAD/XQuAD articles, then perturbed
    copies of them (`perturbed_copy`) until the count is reached."""
    from qa.corpus.documents import read_corpus
    from qa.evaluation.datasets import load_squad

    texts: dict[str, str] = {}
    for source in sources:
        if source.is_file():
            articles, _ = load_squad(source)
            texts.update({f"{source.stem}-{d}": t for d, t in articles.items()})
    first = folder / "copy-0"
    _write_corpus(texts, first)
    documents, _ = read_corpus(first)
    per_copy = max(1, sum(len(d.sentences) for d in documents))
    copies = math.ceil(sentences / per_copy)
    for k in range(1, copies):
        _write_corpus({f"{d}-copy{k}": perturbed_copy(t, k) for d, t in texts.items()}, folder)
    for path in first.iterdir():
        path.rename(folder / path.name)
    first.rmdir()
    return {"copies": copies, "sentences_per_copy": per_copy, "articles": copies * len(texts)}


def _big_build(ctx: Context) -> dict[str, Any]:
    config = ctx.config
    seeds = ctx.work / "big" / "seeds"
    sources = [p for p in (config.squad, config.xquad) if p is not None]
    made = big_corpus(sources, seeds, config.big_sentences)
    ctx.log(f"big corpus: {made}")
    index, seconds = _timed_build(ctx, seeds, ctx.work / "big" / "index", config.encoder)
    counts = index.manifest["counts"]
    result = {
        **made,
        "encoder": config.encoder,
        "sentences": counts["sentences"],
        "chunks": counts["chunks"],
        "texts_embedded": counts["embedded"],
        "seconds": round(seconds, 1),
        "sentences_per_s": round(counts["sentences"] / seconds, 1),
        "store": index.manifest["store"],
        "how": "squad2-dev-half + xquad-en articles, then copies with paragraphs rotated by k "
        "and every digit shifted by k (mod 10)",
    }
    ctx.log(f"big build: {result['sentences']} sentences at {result['sentences_per_s']}/s")
    return result


def _http(ctx: Context) -> None:
    """Cold start, peak RSS and load levels for `qa serve` (default encoder, torch, workers)."""
    config = ctx.config
    out: dict[str, Any] = {}
    ctx.results["http"] = out
    bodies = [{"question": q, "top_k": 3} for q in ctx.questions]
    for encoder in _served_encoders(ctx):
        index_dir = ctx.work / f"seeds-{encoder}"
        if not (index_dir / "current").exists():  # inproc was skipped: build it here
            from qa.service.engine import Engine

            Engine.open(
                ctx.settings(encoder=encoder, index_dir=index_dir), embedder=ctx.embedder(encoder)
            )
        env = _server_env(ctx, encoder)
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
        env = _server_env(ctx, config.encoder)
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


def _server_env(ctx: Context, encoder: str) -> dict[str, str]:
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


def _scaling(ctx: Context) -> None:
    real = ctx.real_vectors
    if real is None:
        # The shape of the synthetic vectors is only as good as the covariance behind it: take
        # the squad2-dev-half sentences (thousands) when present, else the seed sentences.
        texts = _squad_sentences(ctx) or (_seed_sentences(ctx.config.seeds) + ctx.questions)
        real = ctx.embedder(ctx.config.encoder).encode(texts)
    sizes = ctx.config.scaling_sizes
    ctx.results["scaling"] = scaling.curve(
        real,
        sizes,
        queries=ctx.config.scaling_queries,
        rss_size=max(sizes) if sizes else None,
        threads=ctx.threads,
        log=ctx.log,
    )
    ctx.results["scaling"]["real_vectors"] = len(real)
