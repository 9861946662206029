"""`ensure_index`: serve the published index when it is current, else (re)build and publish it."""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from qa.corpus.documents import fingerprint_files, read_corpus
from qa.index.build import build
from qa.index.checkpoints import RESUME_DIR, discard_checkpoints
from qa.index.errors import IndexUnavailable
from qa.index.freshness import stale_reasons
from qa.index.layout import CURRENT
from qa.index.lock import build_lock
from qa.index.manifest import has_manifest
from qa.index.storage import adopt_current, last_intact, load, publish

if TYPE_CHECKING:
    from qa.embed.model import Embedder
    from qa.index.chunking import Chunking
    from qa.index.model import Index
    from qa.index.stores.base import StoreBackend


@dataclass(frozen=True, slots=True)
class BuildReport:
    """What `ensure_index` did."""

    built: bool
    reasons: list[str]
    problems: list[str]
    seconds: float


def ensure_index(
    seeds_dir: Path,
    index_dir: Path,
    embedder: Callable[[], Embedder],
    weights_sha256: str,
    chunking: Chunking,
    *,
    batch_size: int = 64,
    progress: bool = False,
    log: Callable[[str], None] = lambda _msg: None,
    store: StoreBackend | None = None,
) -> tuple[Index, BuildReport]:
    """Load the index when it matches the seeds folder, model and store; otherwise (re)build it
    first.

    `embedder` is called only when something has to be embedded, so an up-to-date index never
    waits for the model to load here.
    """
    started = time.perf_counter()
    with build_lock(index_dir):
        adopt_current(index_dir, log)
        sources = fingerprint_files(seeds_dir)
        previous: Index | None = None
        damaged = False
        try:
            previous = load(index_dir, store=store)
        except IndexUnavailable as err:
            if has_manifest(index_dir):
                log(f"existing index not usable: {err}")
            damaged = (index_dir / CURRENT).is_symlink()
            previous = last_intact(index_dir, store, log) if damaged else None
        manifest = previous.manifest if previous is not None else None
        reasons = stale_reasons(manifest, sources, weights_sha256, chunking, store)
        if damaged:
            reasons.insert(0, "the published index is damaged")
        if previous is not None and not reasons:
            discard_checkpoints(index_dir / RESUME_DIR)  # left by a build another one superseded
            problems = list(previous.manifest.skipped)
            return previous, BuildReport(False, [], problems, time.perf_counter() - started)
        log("building index: " + "; ".join(reasons))
        documents, problems = read_corpus(seeds_dir)
        for problem in problems:
            log(f"skipped {problem}")
        index = build(
            documents,
            embedder(),
            chunking,
            previous=previous,
            sources=sources,
            skipped=problems,
            batch_size=batch_size,
            progress=progress,
            store=store,
            resume_dir=index_dir / RESUME_DIR,
            log=log,
        )
        publish(index, index_dir)
        discard_checkpoints(index_dir / RESUME_DIR)  # kept until the vectors are published
        return index, BuildReport(True, reasons, problems, time.perf_counter() - started)
