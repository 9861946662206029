"""The `build` section of `qa bench`: index build throughput and top-1 on squad2-dev-half, and
the build of a corpus of >= 100k sentences made of perturbed copies of real articles."""

from __future__ import annotations

import math
import time
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from qa.bench.context import Context, write_corpus

if TYPE_CHECKING:
    from qa.evaluation.datasets import EvalItem
    from qa.index.model import Index


def measure_build(ctx: Context) -> None:
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
    seeds = write_corpus(texts, ctx.work / "squad" / "seeds")
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
        counts = index.manifest.counts
        squad[encoder] = {
            "sentences": counts.sentences,
            "texts_embedded": counts.embedded,
            "seconds": round(seconds, 2),
            "sentences_per_s": round(counts.sentences / seconds, 1),
            "top1": _top1(ctx, index, encoder, answerable),
        }
        if encoder == config.encoder:
            ctx.real_vectors = np.asarray(index.sentence_vectors)
        ctx.log(f"squad build ({encoder}): {squad[encoder]}")
    if config.big_sentences:
        out["big"] = _big_build(ctx)


def _timed_build(ctx: Context, seeds: Path, index_dir: Path, encoder: str) -> tuple[Index, float]:
    from qa.embed.loader import ModelLoader
    from qa.engine.startup import prepare_index

    embedder = ctx.embedder(encoder)  # loaded before the clock starts
    settings = ctx.settings(encoder=encoder, seeds_dir=seeds, index_dir=index_dir)
    started = time.perf_counter()
    index, _ = prepare_index(settings, ModelLoader(settings, embedder))
    return index, time.perf_counter() - started


def _top1(ctx: Context, index: Index, encoder: str, items: list[EvalItem]) -> dict[str, Any]:
    """Share of answerable questions whose first citation (and whose nearest sentence by the
    encoder alone) overlaps the gold answer inside its paragraph."""
    from qa.answer.ranker import Ranker
    from qa.engine.engine import Engine

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
    write_corpus(texts, first)
    documents, _ = read_corpus(first)
    per_copy = max(1, sum(len(d.sentences) for d in documents))
    copies = math.ceil(sentences / per_copy)
    for k in range(1, copies):
        write_corpus({f"{d}-copy{k}": perturbed_copy(t, k) for d, t in texts.items()}, folder)
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
    counts = index.manifest.counts
    result = {
        **made,
        "encoder": config.encoder,
        "sentences": counts.sentences,
        "chunks": counts.chunks,
        "texts_embedded": counts.embedded,
        "seconds": round(seconds, 1),
        "sentences_per_s": round(counts.sentences / seconds, 1),
        "store": dict(index.manifest.store),
        "how": "squad2-dev-half + xquad-en articles, then copies with paragraphs rotated by k "
        "and every digit shifted by k (mod 10)",
    }
    ctx.log(f"big build: {result['sentences']} sentences at {result['sentences_per_s']}/s")
    return result
