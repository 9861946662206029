"""`qa train-confidence`: fit the confidence model and the abstention threshold on sampled corpora.

Confidence must mean the same in a corpus of one article and of thousands, so it is fitted on
corpora of 1 to 64 articles sampled from four SQuAD-format sets (`qa.evaluation.corpora`), each
asked its own questions, questions of articles left out of it, and questions from another domain;
plus the seed article alone and with distractor articles, asked the gold set's dev questions. Only
fold-0 questions (and gold dev) are used: fold-1 questions and the gold test part are what `qa eval
--sizes` reports on, so its figures are held out.

The model is P(answerable) x P(right | answerable) (see `qa.answer.ranker.ConfidenceModel`). The
answer is withheld when P(answerable) is below one threshold, the same for every corpus: the
highest one that refuses at most `MAX_FALSE_ABSTENTION` of the answerable training questions of
every set. (Thresholding the product instead refuses hard but answerable questions: on held-out
Amazon reviews it gave 4.8 % false abstention for 75 % off-topic abstention, where P(answerable)
gives 4.2 % for 77 %, and 0.3 % for 81 % on SQuAD where the product gave 0.1 % for 78 %.)
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np

from qa.answer.features import ALL_FEATURES
from qa.answer.ranker import (
    MARGIN,
    TOP_LOGIT,
    ConfidenceModel,
    Linear,
    Ranker,
    confidence_values,
)
from qa.embed.model import CachingEmbedder
from qa.evaluation.corpora import ANSWERABLE, SampledCorpus
from qa.evaluation.scoring import is_hit
from qa.training.fitting import fit_logistic

if TYPE_CHECKING:
    from numpy.typing import NDArray

    from qa.core.settings import Settings
    from qa.engine.engine import Engine

# P(the articles answer the question): absolute similarity and coverage of the best candidate,
# its answer-type cues, agreement of the dense and lexical signals, and how much of the question
# the corpus has never heard of. Nothing that counts sentences: it must not drift with size.
# Names: candidate features of `qa.answer.features` (ALL_FEATURES), the question's own
# (QUESTION_FEATURES), and the ranker's logit and margin (qa.answer.ranker).
ANSWERABLE_FEATURES = (
    TOP_LOGIT,
    MARGIN,
    "dense",
    "chunk_dense",
    "window_dense",
    "para_dense",
    "doc_dense",
    "bm25",
    "window_bm25",
    "chunk_bm25",
    "coverage",
    "window_coverage",
    "best_coverage",
    "has_type",
    "type_match",
    "window_type_match",
    "focus",
    "window_focus",
    "names",
    "figures",
    "proximity",
    "bigram",
    "length",
    "novelty",
    "gap:dense",
    "gap:bm25",
    "gap:coverage",
    "gap:chunk_dense",
    "rank:dense",
    "rank:bm25",
    "rank:coverage",
    "unknown",
)
# P(the best candidate is the answer | the articles answer it): the same, but for the share of
# unknown terms, which says nothing about which sentence is right.
RIGHT_FEATURES = tuple(f for f in ANSWERABLE_FEATURES if f != "unknown")
MAX_FALSE_ABSTENTION = 0.04  # per set, on training questions; the goal is 5 % on held-out ones
C = 1.0  # inverse L2 strength of both logistic models


@dataclass
class TopTable:
    """Per question: what the confidence model reads of its best candidate, and what happened."""

    values: list[dict[str, float]] = field(default_factory=list)
    correct: list[bool] = field(default_factory=list)  # the best candidate answers it
    kind: list[str] = field(default_factory=list)  # answerable, left-out, off-topic, ...
    group: list[str] = field(default_factory=list)  # the set it came from (pool name)
    size: list[int] = field(default_factory=list)  # articles in its corpus

    def extend(self, other: TopTable) -> None:
        for name in ("values", "correct", "kind", "group", "size"):
            getattr(self, name).extend(getattr(other, name))

    def matrix(self, features: Sequence[str]) -> NDArray[np.float64]:
        return np.array([[v[f] for f in features] for v in self.values], dtype=np.float64)


def collect_tops(corpus: SampledCorpus, engine: Engine, keep: Callable[[int], bool]) -> TopTable:
    """Ask `engine` (indexed over `corpus.texts`) the corpus questions whose fold `keep` allows."""
    retriever = engine.state.answerer.retriever
    index = engine.index
    table = TopTable()
    for item in corpus.items:
        if not keep(int(str(item.extra["fold"]))):
            continue
        candidates, question_values = retriever.retrieve_detailed(item.question)
        if not candidates:
            continue
        best = candidates[0]
        doc, span, _ = index.span(best.row)
        runner_up = candidates[1].score if len(candidates) > 1 else None
        values = confidence_values(
            {**dict(zip(ALL_FEATURES, best.features, strict=True)), **question_values},
            best.score,
            runner_up,
        )
        table.values.append(values)
        table.correct.append(is_hit(item, doc.doc_id, (span.start, span.end)))
        table.kind.append(str(item.extra["kind"]))
        table.group.append(str(item.extra["pool"]))
        table.size.append(corpus.size)
    return table


def _balanced_weights(table: TopTable, mask: NDArray[np.bool_]) -> NDArray[np.float64]:
    """Every (set, size) group weighs the same in total, so no set or size dominates."""
    keys = [(g, s) for g, s, m in zip(table.group, table.size, mask, strict=True) if m]
    counts: dict[tuple[str, int], int] = defaultdict(int)
    for k in keys:
        counts[k] += 1
    w = np.array([1.0 / counts[k] for k in keys], dtype=np.float64)
    return np.asarray(w * len(keys) / w.sum(), dtype=np.float64)


def _fit(
    x: NDArray[np.float64], y: NDArray[np.bool_], w: NDArray[np.float64], names: Sequence[str]
) -> Linear:
    weights, bias = fit_logistic(x, y, w, c=C)
    return Linear(tuple(names), weights, bias)


def fit_confidence(table: TopTable) -> ConfidenceModel:
    """Both logistic models, fitted on every question of `table`."""
    everything = np.ones(len(table.kind), dtype=bool)
    answerable = np.array([k == ANSWERABLE for k in table.kind])
    correct = np.array(table.correct, dtype=bool)
    first = _fit(
        table.matrix(ANSWERABLE_FEATURES),
        answerable,
        _balanced_weights(table, everything),
        ANSWERABLE_FEATURES,
    )
    second = _fit(
        table.matrix(RIGHT_FEATURES)[answerable],
        correct[answerable],
        _balanced_weights(table, answerable),
        RIGHT_FEATURES,
    )
    return ConfidenceModel(first, second)


def choose_threshold(
    model: ConfidenceModel, table: TopTable, max_false_abstention: float = MAX_FALSE_ABSTENTION
) -> float:
    """The highest threshold on P(answerable) that refuses at most `max_false_abstention` of
    every set's answerable questions in `table` (rounded down to 4 decimals)."""
    per_set: dict[str, list[float]] = defaultdict(list)
    for values, kind, group in zip(table.values, table.kind, table.group, strict=True):
        if kind == ANSWERABLE:
            per_set[group].append(model.parts(values)[0])
    if not per_set:
        return 0.5
    limits = []
    for confidences in per_set.values():
        ordered = np.sort(confidences)
        limits.append(float(ordered[int(np.floor(max_false_abstention * len(ordered)))]))
    return float(np.floor(min(limits) * 10_000) / 10_000)


def train_confidence(
    ranker: Ranker,
    settings: Settings,
    corpora: Sequence[SampledCorpus],
    work_dir: Path,
    *,
    log: Callable[[str], None] = lambda _m: None,
) -> Ranker:
    """`ranker` with a confidence model and threshold fitted on the training fold of `corpora`."""
    from qa.embed.loader import ModelLoader
    from qa.evaluation.corpora import TRAIN_FOLD
    from qa.evaluation.runner import open_eval_engine

    embedder = CachingEmbedder(ModelLoader(settings).get())
    table = TopTable()
    for corpus in corpora:
        engine = open_eval_engine(
            corpus.texts, settings, work_dir / corpus.name, embedder=embedder, ranker=ranker
        )
        part = collect_tops(corpus, engine, lambda fold: fold == TRAIN_FOLD)
        log(f"{corpus.name}: {len(corpus.texts)} articles, {len(part.kind)} training questions")
        table.extend(part)
    model = fit_confidence(table)
    threshold = choose_threshold(model, table)
    counts: dict[str, int] = defaultdict(int)
    for kind in table.kind:
        counts[kind] += 1
    meta = {
        **(ranker.meta or {}),
        "abstain_threshold": threshold,
        "confidence_trained_on": {
            "corpora": len(corpora),
            "questions": len(table.kind),
            "kinds": dict(sorted(counts.items())),
            "fold": TRAIN_FOLD,
            "max_false_abstention_per_set": MAX_FALSE_ABSTENTION,
        },
    }
    return replace(ranker, calibrator=model, meta=meta)
