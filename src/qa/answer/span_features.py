"""Features of candidate spans, by name, and of the best one for calibration.

`FEATURES` orders the scorer's weights and `CALIBRATION_FEATURES` the calibration's, in
src/qa/answer/spans.json; loading refuses a file whose names differ from these.
"""

from __future__ import annotations

import bisect
import math
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

import numpy as np

from qa.answer.cues import AnswerType
from qa.answer.span_candidates import COPULA, KINDS, MAX_SENTENCE_CHARS, Candidate, find_candidates
from qa.answer.span_tokens import QuestionInfo, Token, question_info, tokenize

if TYPE_CHECKING:
    from numpy.typing import NDArray

QUESTION_TYPES = tuple(t.value for t in AnswerType)
# What the word before a span says about it ("in Tokyo", "by Modi", "since 1990").
PREVIOUS = {
    "in": "at",
    "at": "at",
    "on": "at",
    "near": "at",
    "inside": "at",
    "by": "by",
    "from": "from",
    "to": "from",
    "into": "from",
    "of": "of",
    "since": "time",
    "until": "time",
    "during": "time",
    "after": "time",
    "before": "time",
}
PREVIOUS_CLASSES = ("at", "by", "from", "of", "time")

# Every feature of a candidate, by name, in the order of the weights in spans.json.
FEATURES: tuple[str, ...] = (
    *(f"{q}*{k}" for q in QUESTION_TYPES for k in KINDS),
    *(f"{q}*after_{p}" for q in QUESTION_TYPES for p in PREVIOUS_CLASSES),
    *(f"{q}*tokens" for q in QUESTION_TYPES),
    *(f"focus*{k}" for k in KINDS),
    "tokens",
    "single_token",
    "long_span",
    "in_question_share",
    "match_just_before",
    "match_just_after",
    "no_match",
    "log_distance",
    "after_match",
    "window_matches",
    "after_copula",
    "before_copula",
    "after_comma",
    "before_comma",
    "in_brackets",
    "at_end",
    "focus_in_span",
    "focus_adjacent",
    "position",
    "sentence_initial",
    "capitalised_share",
    "has_digit",
)
# Features of the best candidate that say how likely it is right.
CALIBRATION_FEATURES: tuple[str, ...] = (
    "top_logit",
    "margin",
    "p_top",
    "p_overlap",
    "log_candidates",
    *(f"question_{q}" for q in QUESTION_TYPES),
    *(f"best_{k}" for k in KINDS),
    "tokens",
    "in_question_share",
    "window_matches",
    "focus_in_span",
)


_COLUMN = {name: i for i, name in enumerate(FEATURES)}


def span_features(
    tokens: list[Token], cand: Candidate, q: QuestionInfo, matches: list[int]
) -> list[float]:
    """The values of FEATURES, in order, for one candidate (`matches`: sorted positions of the
    question's words in the sentence). A name not in FEATURES fails loudly."""
    row = [0.0] * len(FEATURES)

    def put(name: str, value: float) -> None:
        row[_COLUMN[name]] = value

    for kind in cand.kinds:
        put(f"{q.kind}*{kind}", 1.0)
    first, last = cand.first, cand.last
    span = tokens[first : last + 1]
    n = len(span)
    before = tokens[first - 1] if first > 0 else None
    after = tokens[last + 1] if last + 1 < len(tokens) else None
    if before is not None and before.lower in PREVIOUS:
        put(f"{q.kind}*after_{PREVIOUS[before.lower]}", 1.0)
    put("tokens", n / 5)
    put(f"{q.kind}*tokens", n / 5)
    put("single_token", float(n == 1))
    put("long_span", float(n > 5))
    words = [t for t in span if t.word]
    put("in_question_share", sum(t.stem in q.stems for t in words) / max(1, len(words)))
    i = bisect.bisect_left(matches, first)  # matches[:i] lie before the span
    j = bisect.bisect_right(matches, last)  # matches[j:] after it
    left = first - matches[i - 1] if i > 0 else None
    right = matches[j] - last if j < len(matches) else None
    if left is None and right is None:
        put("no_match", 1.0)
    else:
        closer_left = left is not None and (right is None or left <= right)
        distance = left if closer_left else right
        put("log_distance", math.log1p(distance or 0))
        put("after_match", float(closer_left))
        near = matches[bisect.bisect_left(matches, first - 4) : i]
        near += matches[j : bisect.bisect_right(matches, last + 4)]
        put("window_matches", len({tokens[m].stem for m in near}) / max(1, len(q.stems)))
        put("match_just_before", float(left is not None and left <= 2))
        put("match_just_after", float(right is not None and right <= 2))
    put("after_copula", float(before is not None and before.lower in COPULA))
    put("before_copula", float(after is not None and after.lower in COPULA))
    put("after_comma", float(before is not None and before.text == ","))
    put("before_comma", float(after is not None and after.text == ","))
    put("in_brackets", float(before is not None and before.text in "(["))
    put("at_end", float(after is None or after.text in ".!?"))
    if q.focus:
        for kind in cand.kinds:
            put(f"focus*{kind}", 1.0)
        put("focus_in_span", float(any(t.stem == q.focus for t in span)))
        put(
            "focus_adjacent",
            float(
                (before is not None and before.stem == q.focus)
                or (after is not None and after.stem == q.focus)
            ),
        )
    put("position", first / max(1, len(tokens)))
    put("sentence_initial", float(first == 0))
    put("capitalised_share", sum(t.text[0].isupper() for t in words) / max(1, len(words)))
    put("has_digit", float(any(t.text[0].isdigit() for t in span)))
    return row


@dataclass
class Scored:
    """A sentence's candidates, their feature matrix and (once scored) their logits."""

    question: QuestionInfo
    candidates: list[Candidate]
    x: NDArray[np.float64]
    logits: NDArray[np.float64] = field(default_factory=lambda: np.zeros(0))


def featurize(sentence: str, question: str | QuestionInfo) -> Scored:
    """Every candidate of `sentence` with its feature row (columns in FEATURES order)."""
    q = question_info(question) if isinstance(question, str) else question
    if len(sentence) > MAX_SENTENCE_CHARS:
        return Scored(q, [], np.zeros((0, len(FEATURES))))
    tokens = tokenize(sentence)
    candidates = find_candidates(sentence, tokens, q)
    matches = [i for i, t in enumerate(tokens) if t.stem in q.stems and t.word]
    x = np.array([span_features(tokens, c, q, matches) for c in candidates], dtype=np.float64)
    return Scored(q, candidates, x.reshape(len(candidates), len(FEATURES)))


def calibration_values(scored: Scored, best: int) -> dict[str, float]:
    """The named calibration features (CALIBRATION_FEATURES) of candidate `best`."""
    logits = scored.logits
    p = np.exp(logits - logits.max())
    p /= p.sum()
    cand = scored.candidates[best]
    others = np.delete(logits, best)
    overlap = sum(
        p[i] for i, c in enumerate(scored.candidates) if c.start < cand.end and cand.start < c.end
    )
    col = {f: i for i, f in enumerate(FEATURES)}
    row = scored.x[best]
    values = {
        "top_logit": float(logits[best]),
        "margin": float(logits[best] - others.max()) if len(others) else 10.0,
        "p_top": float(p[best]),
        "p_overlap": float(overlap),
        "log_candidates": math.log(len(logits)),
        **{f"question_{k}": float(scored.question.kind == k) for k in QUESTION_TYPES},
        **{f"best_{k}": float(k in cand.kinds) for k in KINDS},
        **{f: float(row[col[f]]) for f in ("tokens", "in_question_share", "window_matches")},
        "focus_in_span": float(row[col["focus_in_span"]]),
    }
    return values
