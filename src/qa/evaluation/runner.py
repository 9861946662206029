"""`qa eval`'s runs: answer a question set against a freshly built index and score it.

The index is always built in a temporary folder (or a named cache folder), never in the
serving `index/`, from the same code path as `qa index`.
"""

from __future__ import annotations

import hashlib
import json
import subprocess
import tempfile
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from qa.answer.ranker import Ranker
from qa.answer.reader import Reader
from qa.answer.reading import Reads
from qa.core.settings import Settings
from qa.embed.loader import ModelLoader
from qa.embed.model import CachingEmbedder, Embedder
from qa.engine.engine import Engine
from qa.engine.startup import prepare_index
from qa.evaluation.datasets import EvalItem
from qa.evaluation.followups import FollowupRun, ask_all, summarize_followups
from qa.evaluation.metrics import Outcome, summarize
from qa.evaluation.scoring import score_item
from qa.index.model import Index


@dataclass
class EvalRun:
    """Outcomes of one run, metrics per split, and what produced them."""

    name: str
    outcomes: list[Outcome]
    metrics: dict[str, dict[str, float]]
    meta: dict[str, Any]
    followup: FollowupRun | None = field(default=None)  # the follow-up set, on `gold` runs


def _write_corpus(texts: dict[str, str], folder: Path) -> None:
    folder.mkdir(parents=True, exist_ok=True)
    wanted = {f"{doc_id}.txt" for doc_id in texts}
    for old in folder.glob("*.txt"):
        if old.name not in wanted:
            old.unlink()
    for doc_id, text in texts.items():
        path = folder / f"{doc_id}.txt"
        data = text.encode("utf-8")
        if not path.exists() or path.read_bytes() != data:
            path.write_bytes(data)


def packaged_reader(settings: Settings) -> Reader | None:
    """The reader packaged with qa, loaded, or None when QA_READER_CANDIDATES=0."""
    if not settings.reader_candidates:
        return None
    reader = Reader(threads=1)
    reader.warm_up()
    return reader


def open_eval_engine(
    texts: dict[str, str],
    settings: Settings,
    work_dir: Path,
    *,
    embedder: Embedder | None = None,
    ranker: Ranker | None = None,
    reader: Reads | None = None,
    log: Callable[[str], None] = lambda _m: None,
) -> Engine:
    """An engine over `texts`, indexed under `work_dir` through the normal build path.

    The engine's questions are encoded through a `CachingEmbedder` (the index build is not):
    `score_item` asks every question a second time, for dense search alone."""
    _write_corpus(texts, work_dir / "seeds")
    local = settings.model_copy(
        update={"seeds_dir": work_dir / "seeds", "index_dir": work_dir / "index"}
    )
    models = ModelLoader(local, embedder)
    index: Index = prepare_index(local, models, progress=False, log=log)[0]
    queries = models.get()
    if not isinstance(queries, CachingEmbedder):
        queries = CachingEmbedder(queries)
    return Engine(local, queries, index, ranker or Ranker.load(settings.ranker), reader=reader)


def run(
    name: str,
    items: Sequence[EvalItem],
    texts: dict[str, str],
    settings: Settings,
    *,
    work_dir: Path | None = None,
    embedder: Embedder | None = None,
    ranker: Ranker | None = None,
    reader: Reads | None = None,
    top_k: int = 5,
    source: Path | None = None,
    log: Callable[[str], None] = lambda _m: None,
) -> EvalRun:
    """Build an index for `texts`, answer every item, and score the run (with `reader`, or
    the packaged one unless QA_READER_CANDIDATES=0)."""
    with tempfile.TemporaryDirectory(prefix="qa-eval-") as tmp:
        folder = work_dir or Path(tmp)
        engine = open_eval_engine(
            texts,
            settings,
            folder,
            embedder=embedder,
            ranker=ranker,
            reader=reader or packaged_reader(settings),
            log=log,
        )
        engine.ask("warm-up question")  # first call pays one-off costs; keep them out of p50
        outcomes = [score_item(item, engine, texts, top_k) for item in items]
        meta = _meta(name, engine, settings, source, len(texts))
    splits = sorted({o.split for o in outcomes} - {"all"})
    metrics = {"all": summarize(outcomes)}
    for split in splits:
        metrics[split] = summarize([o for o in outcomes if o.split == split])
    return EvalRun(name, outcomes, metrics, meta)


def run_followups(
    items: Sequence[EvalItem],
    texts: dict[str, str],
    settings: Settings,
    *,
    standalone: Sequence[EvalItem] = (),
    embedder: Embedder | None = None,
    reader: Reads | None = None,
    log: Callable[[str], None] = lambda _m: None,
) -> FollowupRun:
    """Index `texts` in a temporary folder and ask the follow-up set (`qa.evaluation.followups`)
    over it; with `standalone` (the gold questions), also the share of them that would be read
    as follow-ups if they came after another question."""
    with tempfile.TemporaryDirectory(prefix="qa-eval-followup-") as tmp:
        engine = open_eval_engine(
            texts,
            settings,
            Path(tmp),
            embedder=embedder,
            reader=reader or packaged_reader(settings),
            log=log,
        )
        outcomes = ask_all(items, engine)
    metrics = summarize_followups(outcomes)
    if standalone:
        from qa.answer.followup import kind_of

        read = [kind_of(i.question) is not None for i in standalone]
        metrics["standalone_read_as_followup"] = sum(read) / len(read)
    splits = {
        split: summarize_followups([o for o in outcomes if o.split == split])
        for split in sorted({o.split for o in outcomes} - {"all"})
    }
    return FollowupRun(outcomes, metrics, len(texts), splits)


def _git_commit() -> str:
    try:
        commit = subprocess.run(
            ["git", "rev-parse", "HEAD"], capture_output=True, text=True, check=True, timeout=5
        ).stdout.strip()
        dirty = subprocess.run(
            ["git", "status", "--porcelain", "--untracked-files=no"],
            capture_output=True,
            text=True,
            timeout=5,
        ).stdout.strip()
    except (OSError, subprocess.SubprocessError):
        return "unknown"
    return commit + ("+dirty" if dirty else "")


def _meta(
    name: str, engine: Engine, settings: Settings, source: Path | None, documents: int
) -> dict[str, Any]:
    manifest = engine.index.manifest
    return {
        "name": name,
        "created": datetime.now(UTC).isoformat(timespec="seconds"),
        "git_commit": _git_commit(),
        "model": manifest.model.name,
        "weights_sha256": manifest.model.weights_sha256,
        "ranker": engine.ranker.source,
        "ranker_sha256": hashlib.sha256(
            json.dumps(engine.ranker.to_json(), sort_keys=True).encode()
        ).hexdigest(),
        "dataset": str(source) if source else None,
        "dataset_sha256": hashlib.sha256(source.read_bytes()).hexdigest() if source else None,
        "documents": documents,
        "sentences": engine.index.sentence_count,
        "settings": {
            k: (str(v) if isinstance(v, Path) else v)
            for k, v in settings.model_dump().items()
            if k not in ("seeds_dir", "index_dir", "host", "port")
        },
    }


@dataclass
class SizedRun:
    """Held-out outcomes on sampled corpora, grouped by set and corpus size."""

    groups: dict[tuple[str, int], list[Outcome]]
    corpora: dict[tuple[str, int], int]
    meta: dict[str, Any]


def run_sizes(
    corpora: Sequence[Any],
    settings: Settings,
    work_dir: Path,
    *,
    ranker: Ranker | None = None,
    reader: Reads | None = None,
    top_k: int = 5,
    log: Callable[[str], None] = lambda _m: None,
) -> SizedRun:
    """Answer the held-out questions of every sampled corpus (`corpora.SampledCorpus`)."""
    from qa.evaluation.corpora import HELD_OUT_FOLD

    embedder = CachingEmbedder(ModelLoader(settings).get())
    reader = reader or packaged_reader(settings)
    groups: dict[tuple[str, int], list[Outcome]] = {}
    counts: dict[tuple[str, int], int] = {}
    engine = None
    for corpus in corpora:
        items = [i for i in corpus.items if i.extra.get("fold") == HELD_OUT_FOLD]
        engine = open_eval_engine(
            corpus.texts,
            settings,
            work_dir / corpus.name,
            embedder=embedder,
            ranker=ranker,
            reader=reader,
        )
        outcomes = [score_item(item, engine, corpus.texts, top_k) for item in items]
        key = (corpus.pool, corpus.size)
        groups.setdefault(key, []).extend(outcomes)
        counts[key] = counts.get(key, 0) + 1
        log(f"{corpus.name}: {len(corpus.texts)} articles, {len(items)} held-out questions")
    meta = _meta("sizes", engine, settings, None, 0) if engine is not None else {}
    return SizedRun(groups, counts, meta)
