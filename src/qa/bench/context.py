"""What the sections of one `qa bench` run share: its configuration, its state, and a few
helpers (timing statistics, the seed sentences, writing a corpus folder)."""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from qa.bench.loadgen import percentile
from qa.core.settings import Settings

if TYPE_CHECKING:
    from numpy.typing import NDArray

    from qa.embed.model import Embedder

SECTIONS = ("encoders", "inproc", "build", "http", "memory", "scaling")
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
    # The `memory` section uploads this many articles of this size (default: the largest
    # article the server accepts, QA_MAX_ARTICLE_BYTES's default).
    memory_article_bytes: int = 1024 * 1024
    memory_uploads: int = 2
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
            "memory_article_bytes": 20_000,
            "memory_uploads": 1,
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


def stats_ms(times_s: Sequence[float]) -> dict[str, float]:
    """Count and p50 / p95 / p99 in milliseconds of times in seconds."""
    ms = [t * 1000 for t in times_s]
    return {
        "n": len(ms),
        "p50_ms": round(percentile(ms, 50), 3),
        "p95_ms": round(percentile(ms, 95), 3),
        "p99_ms": round(percentile(ms, 99), 3),
    }


def seed_sentences(seeds: Path) -> list[str]:
    """The text of every sentence of the articles in `seeds`."""
    from qa.corpus.documents import read_corpus

    documents, _ = read_corpus(seeds)
    return [d.text[s.start : s.end] for d in documents for s in d.sentences]


def write_corpus(texts: dict[str, str], folder: Path) -> Path:
    """Write each text as `<doc_id>.txt` in `folder`; return `folder`."""
    folder.mkdir(parents=True, exist_ok=True)
    for doc_id, text in texts.items():
        (folder / f"{doc_id}.txt").write_text(text, encoding="utf-8")
    return folder
