"""`qa train-spans`: learn the short-answer scorer (answer/spans.json) from SQuAD-format answers.

Each answerable question is paired with the sentence that holds its gold answer, split from the
article exactly as the service splits it (`split_sentences`), because at run time the scorer
reads the cited sentence. A candidate is right when its token F1 with a gold answer is at least
0.5. The scorer is a listwise (softmax) linear model over each sentence's candidates; the
probability that its best candidate is right comes from a logistic regression fitted on
out-of-fold scores. The threshold is the lowest probability at which the spans given keep a
mean token F1 of at least `TARGET_F1` on training questions, never on held-out ones. Figures
come from 5-fold cross-validation grouped by article (by post when a file is one article of
many documents, as the Reddit set is).
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from qa.answer.span_features import CALIBRATION_FEATURES, FEATURES, Scored, calibration_values
from qa.answer.spans import SpanScorer
from qa.corpus.documents import split_sentences
from qa.evaluation.datasets import load_squad, squad_contexts
from qa.evaluation.span_metrics import exact_match, token_f1
from qa.training.fitting import fit_listwise, fit_logistic, grouped_folds

if TYPE_CHECKING:
    from numpy.typing import NDArray

RIGHT_F1 = 0.5  # a candidate this close to a gold answer counts as right
TARGET_F1 = 0.65  # mean F1 of the spans given, with a margin over the goal of 0.6
FOLDS = 5
L2 = 1e-3


@dataclass(frozen=True)
class SpanQuestion:
    """An answerable question, the sentence holding its answer, and the gold answers."""

    question: str
    sentence: str
    answers: tuple[str, ...]
    group: str  # the article (or post) it comes from; folds never split one
    source: str


def span_questions(
    path: Path, source: str, exclude_contexts: frozenset[str] = frozenset()
) -> tuple[list[SpanQuestion], int]:
    """The answerable questions of a SQuAD-format file whose gold answer lies inside one
    sentence, and how many were left out because their answer spans sentences."""
    texts, items = load_squad(path, exclude_contexts=exclude_contexts)
    by_paragraph = len(texts) == 1  # one "article" of independent posts
    sentences = {doc_id: split_sentences(text) for doc_id, text in texts.items()}
    out: list[SpanQuestion] = []
    crossing = 0
    for item in items:
        if not item.answerable or item.doc_id is None:
            continue
        text = texts[item.doc_id]
        spans = sentences[item.doc_id]
        starts = [s.start for s in spans]
        holder = None
        for a, b in item.spans:
            i = int(np.searchsorted(starts, a, side="right")) - 1
            if i >= 0 and spans[i].start <= a and b <= spans[i].end:
                holder = spans[i]
                break
        if holder is None:
            crossing += 1
            continue
        group = f"{source}:{item.region if by_paragraph else item.doc_id}"
        sentence = text[holder.start : holder.end]
        out.append(SpanQuestion(item.question, sentence, item.answers, group, source))
    return out, crossing


@dataclass
class SpanRows:
    """Every candidate of every question, with its F1 against the gold answers."""

    questions: list[SpanQuestion]
    scored: list[Scored]
    x: NDArray[np.float64]  # (rows, len(FEATURES))
    f1: NDArray[np.float64]  # (rows,)
    question: NDArray[np.int64]  # row -> question number
    offsets: NDArray[np.int64]  # question number -> its first row


def featurize_all(questions: Sequence[SpanQuestion]) -> SpanRows:
    from qa.answer.span_features import featurize

    scored = [featurize(q.sentence, q.question) for q in questions]
    sizes = np.array([len(s.candidates) for s in scored], dtype=np.int64)
    x = np.concatenate([s.x for s in scored]) if scored else np.zeros((0, len(FEATURES)))
    offsets = np.concatenate([[0], np.cumsum(sizes)]).astype(np.int64)
    for s, a, b in zip(scored, offsets[:-1], offsets[1:], strict=True):
        s.x = x[a:b]  # a view: one copy of the features
    f1 = np.array(
        [
            token_f1(c.text, q.answers)
            for q, s in zip(questions, scored, strict=True)
            for c in s.candidates
        ],
        dtype=np.float64,
    )
    question = np.repeat(np.arange(len(questions)), sizes)
    return SpanRows(list(questions), scored, x, f1, question, offsets)


@dataclass
class Picks:
    """Per question: the best candidate's calibration features, its F1 and exact match."""

    calib: NDArray[np.float64]
    f1: NDArray[np.float64]
    exact: NDArray[np.bool_]
    wants_sentence: NDArray[np.bool_]


def picks(rows: SpanRows, weights: NDArray[np.float64], questions: NDArray[np.int64]) -> Picks:
    """The best candidate of each of `questions` under `weights`."""
    calib = np.zeros((len(questions), len(CALIBRATION_FEATURES)))
    f1 = np.zeros(len(questions))
    exact = np.zeros(len(questions), dtype=bool)
    wants = np.zeros(len(questions), dtype=bool)
    for i, qn in enumerate(questions):
        scored = rows.scored[qn]
        wants[i] = scored.question.wants_sentence
        if not scored.candidates:
            calib[i, 0] = -20.0
            wants[i] = True  # nothing to give
            continue
        scored.logits = scored.x @ weights
        best = int(np.argmax(scored.logits))
        values = calibration_values(scored, best)
        calib[i] = [values[f] for f in CALIBRATION_FEATURES]
        a = rows.offsets[qn]
        f1[i] = rows.f1[a + best]
        exact[i] = exact_match(scored.candidates[best].text, rows.questions[qn].answers)
    return Picks(calib, f1, exact, wants)


def _probabilities(
    calib: NDArray[np.float64], weights: NDArray[np.float64], bias: float
) -> NDArray[np.float64]:
    return np.asarray(1.0 / (1.0 + np.exp(-np.clip(calib @ weights + bias, -50, 50))))


def choose_threshold(
    probability: NDArray[np.float64], f1: NDArray[np.float64], target: float = TARGET_F1
) -> float:
    """The lowest probability threshold at which the spans given have mean F1 >= `target`."""
    order = np.argsort(-probability, kind="stable")
    ranked = probability[order]
    running = np.cumsum(f1[order]) / np.arange(1, len(order) + 1)
    last_of_tie = np.r_[ranked[1:] != ranked[:-1], True]
    ok = np.flatnonzero(last_of_tie & (running >= target))
    return float(ranked[ok[-1]]) if len(ok) else 1.0


@dataclass
class Model:
    weights: NDArray[np.float64]
    calibration_weights: NDArray[np.float64]
    calibration_bias: float
    threshold: float
    # Out-of-fold probability and F1 of the questions it was fitted on (for the threshold).
    oof_probability: NDArray[np.float64]
    oof_f1: NDArray[np.float64]


def train(rows: SpanRows, questions: NDArray[np.int64], l2: float = L2) -> Model:
    """Scorer, calibration and threshold fitted on `questions` only."""
    right = rows.f1 >= RIGHT_F1
    mask = np.isin(rows.question, questions)
    weights = fit_listwise(rows.x[mask], right[mask], rows.question[mask], l2)
    groups = [rows.questions[q].group for q in questions]
    calib_parts, f1_parts, order = [], [], []
    for held in grouped_folds(groups, FOLDS - 1):
        held_q = questions[held]
        inner = np.isin(rows.question, np.setdiff1d(questions, held_q))
        w = fit_listwise(rows.x[inner], right[inner], rows.question[inner], l2)
        p = picks(rows, w, held_q)
        keep = ~p.wants_sentence
        calib_parts.append(p.calib[keep])
        f1_parts.append(p.f1[keep])
        order.append(held_q[keep])
    calib = np.concatenate(calib_parts)
    f1 = np.concatenate(f1_parts)
    cw, cb = fit_logistic(calib, f1 >= RIGHT_F1)
    probability = _probabilities(calib, cw, cb)
    return Model(weights, cw, cb, choose_threshold(probability, f1), probability, f1)


def evaluate(rows: SpanRows, model: Model, questions: NDArray[np.int64]) -> dict[str, float]:
    """Coverage, and F1 and exact match where a span is given, over `questions`."""
    p = picks(rows, model.weights, questions)
    probability = _probabilities(p.calib, model.calibration_weights, model.calibration_bias)
    given = ~p.wants_sentence & (probability >= model.threshold)
    return _figures(p, given, questions, rows)


def _figures(
    p: Picks, given: NDArray[np.bool_], questions: NDArray[np.int64], rows: SpanRows
) -> dict[str, float]:
    n = max(1, len(given))
    oracle = [
        float(rows.f1[rows.offsets[q] : rows.offsets[q + 1]].max(initial=0.0)) for q in questions
    ]
    return {
        "questions": float(len(given)),
        "coverage": float(given.sum() / n),
        "f1_given": float(p.f1[given].mean()) if given.any() else float("nan"),
        "exact_given": float(p.exact[given].mean()) if given.any() else float("nan"),
        "f1_all_best": float(p.f1[~p.wants_sentence].mean()) if (~p.wants_sentence).any() else 0,
        "candidate_recall": float(np.mean(np.array(oracle) >= RIGHT_F1)) if oracle else 0.0,
        "wants_sentence": float(p.wants_sentence.mean()) if len(given) else 0.0,
    }


def cross_validate(rows: SpanRows, l2: float = L2) -> dict[str, dict[str, float]]:
    """Per source (and "all"): figures on held-out articles, each fold's threshold chosen on
    its training folds only."""
    everything = np.arange(len(rows.questions))
    groups = [q.group for q in rows.questions]
    held_parts: list[NDArray[np.int64]] = []
    given_parts: list[NDArray[np.bool_]] = []
    pick_parts: list[Picks] = []
    for held in grouped_folds(groups, FOLDS):
        held_q = everything[held]
        model = train(rows, np.setdiff1d(everything, held_q), l2)
        p = picks(rows, model.weights, held_q)
        probability = _probabilities(p.calib, model.calibration_weights, model.calibration_bias)
        held_parts.append(held_q)
        given_parts.append(~p.wants_sentence & (probability >= model.threshold))
        pick_parts.append(p)
    held_all = np.concatenate(held_parts)
    given = np.concatenate(given_parts)
    merged = Picks(
        np.concatenate([p.calib for p in pick_parts]),
        np.concatenate([p.f1 for p in pick_parts]),
        np.concatenate([p.exact for p in pick_parts]),
        np.concatenate([p.wants_sentence for p in pick_parts]),
    )
    sources = [rows.questions[q].source for q in held_all]
    out = {"all": _figures(merged, given, held_all, rows)}
    for source in dict.fromkeys(sources):
        sel = np.array([s == source for s in sources])
        sub = Picks(
            merged.calib[sel], merged.f1[sel], merged.exact[sel], merged.wants_sentence[sel]
        )
        out[source] = _figures(sub, given[sel], held_all[sel], rows)
    return out


def scorer_from(model: Model, meta: dict[str, Any]) -> SpanScorer:
    return SpanScorer(
        model.weights,
        model.calibration_weights,
        model.calibration_bias,
        model.threshold,
        meta,
    )


DATASETS = Path("../shared/datasets")
DEFAULT_TRAIN = (
    DATASETS / "squad2-dev-half/dev-v2.0.json",
    DATASETS / "squadshifts-amazon/amazon_reviews_v1.0.json",
    DATASETS / "squadshifts-reddit/reddit_v1.0.json",
)
DEFAULT_HELDOUT = DATASETS / "xquad-en/xquad.en.json"
REPORT_KEYS = (
    "questions",
    "coverage",
    "f1_given",
    "exact_given",
    "f1_all_best",
    "candidate_recall",
    "wants_sentence",
)


def run(
    train_files: Sequence[Path],
    heldout: Path | None,
    out: Path,
    report: Path,
    log: Any = print,
) -> str:
    """Cross-validate, fit on every training question, write the scorer and a Markdown report
    (returned). `heldout` is scored without tuning, leaving out paragraphs it shares with the
    training files."""
    questions: list[SpanQuestion] = []
    seen: set[str] = set()
    for path in train_files:
        source = path.parent.name or path.stem
        got, crossing = span_questions(path, source)
        log(f"{source}: {len(got)} questions ({crossing} with answers across sentences left out)")
        questions += got
        seen |= squad_contexts(path)
    rows = featurize_all(questions)
    log(f"{len(rows.f1)} candidates; cross-validating ({FOLDS} folds by article)")
    cv = cross_validate(rows)
    everything = np.arange(len(questions))
    model = train(rows, everything)
    table = {f"{k} (CV)": v for k, v in cv.items()}
    held_q: list[SpanQuestion] = []
    if heldout is not None:
        held_q, _ = span_questions(heldout, heldout.parent.name or heldout.stem, frozenset(seen))
        held_rows = featurize_all(held_q)
        table[f"{heldout.parent.name} held out"] = evaluate(
            held_rows, model, np.arange(len(held_q))
        )
    meta = {
        "trained_on": [str(p) for p in train_files],
        "right_f1": RIGHT_F1,
        "target_f1": TARGET_F1,
        "threshold_chosen_on": "out-of-fold probabilities of the training questions",
        "figures": {k: {m: round(v, 4) for m, v in row.items()} for k, row in table.items()},
    }
    out.write_text(
        json.dumps(scorer_from(model, meta).to_json(), indent=1) + "\n", encoding="utf-8"
    )
    lines = [
        f"# Short-answer spans (threshold {model.threshold:.4f}, chosen on training folds)",
        "",
        "| set | " + " | ".join(REPORT_KEYS) + " |",
        "|---|" + "---:|" * len(REPORT_KEYS),
    ]
    for name, row in table.items():
        cells = [f"{int(row[k])}" if k == "questions" else f"{row[k]:.3f}" for k in REPORT_KEYS]
        lines.append(f"| {name} | " + " | ".join(cells) + " |")
    lines += [
        "",
        "coverage: share of questions given a span; f1_given, exact_given: over those; "
        "f1_all_best: the best candidate's F1 whatever its probability; candidate_recall: "
        f"share with a candidate of F1 >= {RIGHT_F1}; wants_sentence: share refused as why/how "
        "questions (or with no candidate).",
    ]
    pairs = (held_q + questions)[:1000]
    median, p95 = latency(scorer_from(model, meta), pairs)
    lines += [
        "",
        f"Cost: `SpanScorer.span()` takes {median:.0f} µs median, {p95:.0f} µs p95 of CPU per "
        "question "
        f"({len(pairs)} real sentence and question pairs, held-out ones first, one thread).",
    ]
    text = "\n".join(lines) + "\n"
    report.parent.mkdir(parents=True, exist_ok=True)
    report.write_text(text, encoding="utf-8")
    return text


def latency(scorer: SpanScorer, pairs: Sequence[SpanQuestion]) -> tuple[float, float]:
    """Median and 95th percentile CPU microseconds of `scorer.span` per question, after a
    warm-up (CPU time of this thread, so time spent waiting for a busy machine is left out)."""
    import time

    for q in pairs[:50]:
        scorer.span(q.sentence, q.question)
    took = []
    for q in pairs:
        started = time.thread_time_ns()
        scorer.span(q.sentence, q.question)
        took.append((time.thread_time_ns() - started) / 1000)
    if not took:
        return float("nan"), float("nan")
    return float(np.median(took)), float(np.percentile(took, 95))
