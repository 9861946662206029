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

import math
from collections import defaultdict
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np

from qa.answer.answerer import DEFAULT_SPAN_THRESHOLD, reader_span
from qa.answer.features import ALL_FEATURES
from qa.answer.ranker import (
    MARGIN,
    TOP_LOGIT,
    ConfidenceModel,
    Linear,
    Ranker,
    confidence_values,
)
from qa.answer.reader import ReadCandidate, Reading
from qa.answer.reading import READER_VALUES
from qa.embed.model import CachingEmbedder
from qa.evaluation.corpora import ANSWERABLE, SampledCorpus
from qa.evaluation.scoring import is_hit
from qa.evaluation.span_metrics import token_f1
from qa.training.fitting import fit_logistic

if TYPE_CHECKING:
    from numpy.typing import NDArray

    from qa.answer.reader import Reader
    from qa.core.settings import Settings
    from qa.engine.engine import Engine

# P(the articles answer the question): absolute similarity and coverage of the best candidate,
# its answer-type cues, agreement of the dense and lexical signals, and how much of the question
# the corpus has never heard of. Nothing that counts sentences: it must not drift with size.
# Names: candidate features of `qa.answer.features` (ALL_FEATURES), the question's own
# (QUESTION_FEATURES), and the ranker's logit and margin (qa.answer.ranker).
_RANKING_FEATURES = (
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
# The reader's view of the best candidate (qa.answer.reading): the main input of both models.
ANSWERABLE_FEATURES = (*_RANKING_FEATURES, *READER_VALUES)
# P(the best candidate is the answer | the articles answer it): the same, but for the share of
# unknown terms, which says nothing about which sentence is right.
RIGHT_FEATURES = tuple(f for f in ANSWERABLE_FEATURES if f != "unknown")
# Weights of the ranker's logit against the reader's relevance tried for the reader stage.
RANKER_WEIGHTS = (0.0, 0.25, 0.5, 1.0, 2.0, 4.0, 8.0)
SPAN_MIN_F1 = 0.65  # the short answers marked keep this mean token F1 on training questions
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
    # Answerable questions whose best candidate the reader read and marked a span of the kind
    # asked for: the span's log-probability and its token F1 (0 when the sentence is wrong).
    spans: list[tuple[float, float]] = field(default_factory=list)

    def extend(self, other: TopTable) -> None:
        for name in ("values", "correct", "kind", "group", "size", "spans"):
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
        hit = is_hit(item, doc.doc_id, (span.start, span.end))
        table.correct.append(hit)
        sentence = doc.text[span.start : span.end]
        marked = (
            reader_span(item.question, sentence, best.reading, -math.inf)
            if best.reading is not None and item.answerable and item.answers
            else None
        )
        if marked is not None and best.reading is not None:
            f1 = token_f1(sentence[marked[0] : marked[1]], item.answers) if hit else 0.0
            table.spans.append((best.reading.span_score, f1))
        table.kind.append(str(item.extra["kind"]))
        table.group.append(str(item.extra["pool"]))
        table.size.append(corpus.size)
    return table


def choose_span_threshold(table: TopTable, min_f1: float = SPAN_MIN_F1) -> float:
    """The lowest threshold on the reader span's log-probability whose marked spans keep a mean
    token F1 of `min_f1` on the training questions (rounded down to 2 decimals)."""
    if not table.spans:
        return DEFAULT_SPAN_THRESHOLD
    ordered = sorted(table.spans, key=lambda p: -p[0])
    scores = np.array([p[0] for p in ordered])
    mean_f1 = np.cumsum([p[1] for p in ordered]) / np.arange(1, len(ordered) + 1)
    keep = np.flatnonzero(mean_f1 >= min_f1)
    if not len(keep):  # no threshold keeps the bar: mark nothing
        return float(np.floor(scores[0] * 100) / 100 + 0.01)
    return float(np.floor(scores[int(keep[-1])] * 100) / 100)


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
    """The highest threshold on the confidence shown (P(answerable) x P(right)) that refuses
    at most `max_false_abstention` of every set's answerable questions in `table` (rounded down
    to 4 decimals): one number decides and is shown."""
    per_set: dict[str, list[float]] = defaultdict(list)
    for values, kind, group in zip(table.values, table.kind, table.group, strict=True):
        if kind == ANSWERABLE:
            per_set[group].append(model.probability(values))
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
    from qa.evaluation.runner import open_eval_engine, packaged_reader

    embedder = CachingEmbedder(ModelLoader(settings).get())
    reader = MemoReader(packaged) if (packaged := packaged_reader(settings)) else None

    def tops(weight: float) -> TopTable:
        table = TopTable()
        staged = replace(ranker, meta={**(ranker.meta or {}), "reader_ranker_weight": weight})
        for corpus in corpora:
            engine = open_eval_engine(
                corpus.texts,
                settings,
                work_dir / corpus.name,
                embedder=embedder,
                ranker=staged,
                reader=reader,
            )
            table.extend(collect_tops(corpus, engine, lambda fold: fold == TRAIN_FOLD))
        return table

    weight, table = 0.0, tops(0.0)
    if reader is not None:  # choose the ranker's weight in the reader stage by top-1
        scores = {0.0: balanced_top1(table)}
        log(f"reader stage, ranker weight 0.0: training top-1 {scores[0.0]:.4f}")
        for w in RANKER_WEIGHTS[1:]:
            candidate = tops(w)
            scores[w] = balanced_top1(candidate)
            log(f"reader stage, ranker weight {w}: training top-1 {scores[w]:.4f}")
            if scores[w] > scores[weight]:
                weight, table = w, candidate
        log(f"reader stage: ranker weight {weight} (training top-1 {scores[weight]:.4f})")
    log(f"{len(corpora)} corpora, {len(table.kind)} training questions")
    model = fit_confidence(table)
    threshold = choose_threshold(model, table)
    counts: dict[str, int] = defaultdict(int)
    for kind in table.kind:
        counts[kind] += 1
    meta = {
        **(ranker.meta or {}),
        "abstain_threshold": threshold,
        "reader_ranker_weight": weight,
        "span_threshold": choose_span_threshold(table),
        "reader": (reader.inner.meta.get("sha256") if reader is not None else None),
        "confidence_trained_on": {
            "corpora": len(corpora),
            "questions": len(table.kind),
            "kinds": dict(sorted(counts.items())),
            "fold": TRAIN_FOLD,
            "max_false_abstention_per_set": MAX_FALSE_ABSTENTION,
        },
    }
    return replace(ranker, calibrator=model, meta=meta)


def balanced_top1(table: TopTable) -> float:
    """Share of answerable questions whose best candidate answers them, each (set, size) group
    weighing the same."""
    answerable = np.array([k == ANSWERABLE for k in table.kind])
    if not answerable.any():
        return 0.0
    correct = np.array(table.correct, dtype=np.float64)[answerable]
    return float(np.average(correct, weights=_balanced_weights(table, answerable)))


class MemoReader:
    """A `Reader` that remembers each (question, previous, sentence) it read: choosing the
    reader stage's weight asks the same questions several times."""

    def __init__(self, inner: Reader) -> None:
        self.inner = inner
        self._memo: dict[tuple[str, str, str], ReadCandidate] = {}
        self._none = 0.0

    def read(self, question: str, candidates: Sequence[tuple[str, str]]) -> Reading:
        todo = [c for c in candidates if (question, *c) not in self._memo]
        if todo:
            fresh = self.inner.read(question, todo)
            self._none = fresh.none
            for pair, got in zip(todo, fresh.candidates, strict=True):
                self._memo[(question, *pair)] = got
        return Reading(self._none, tuple(self._memo[(question, *c)] for c in candidates))
