"""Features of candidate spans, by name, and of the best one for calibration.

`FEATURES` orders the scorer's weights and `CALIBRATION_FEATURES` the calibration's, in
src/qa/answer/spans.json; loading refuses a file whose names differ from these.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
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
# Question words this close to a span (tokens before its start or after its end) count as near.
NEAR = 4


# Per-token flags of a sentence, one column each (see `_Tokens`).
_FLAGS = ("word", "asked", "upper", "digit", "focus", "copula", "comma", "bracket", "stop")
_FLAG = {name: k for k, name in enumerate(_FLAGS)}


class _Tokens:
    """The `_FLAGS` of each token of one sentence, counted over each candidate span and read
    just before and just after it: every flag at once, in a few array operations."""

    def __init__(self, tokens: Sequence[Token], q: QuestionInfo, spans: _Spans) -> None:
        self.n = len(tokens)
        rows = [
            (
                t.word,
                t.word and t.stem in q.stems,  # a match: a word of the question (by stem)
                t.word and t.text[0].isupper(),
                t.text[0].isdigit(),
                t.stem == q.focus,
                t.lower in COPULA,
                t.text == ",",
                t.text in "([",
                t.text in ".!?",
            )
            for t in tokens
        ]
        flags = np.array(rows, dtype=bool).reshape(self.n, len(_FLAGS))
        cum = np.zeros((self.n + 1, len(_FLAGS)), dtype=np.int64)
        np.cumsum(flags, axis=0, out=cum[1:])
        self._within = cum[spans.last + 1] - cum[spans.first]
        self._before = spans.has_before[:, None] & flags[spans.before]
        self._after = spans.has_after[:, None] & flags[spans.after]
        self.matches = np.flatnonzero(flags[:, _FLAG["asked"]])
        self.match_stems = [tokens[m].stem for m in self.matches.tolist()]
        classes = np.array(
            [
                PREVIOUS_CLASSES.index(PREVIOUS[t.lower]) if t.lower in PREVIOUS else -1
                for t in tokens
            ]
        )
        # The class of the word just before each span (-1: none, or the sentence's start).
        self.previous = np.where(spans.has_before, classes[spans.before], -1)
        self.spans = spans

    def within(self, flag: str) -> NDArray[np.int64]:
        """How many tokens of each candidate span have the flag."""
        return np.asarray(self._within[:, _FLAG[flag]])

    def before(self, flag: str) -> NDArray[np.bool_]:
        """The flag of the token just before each span (False at the sentence's start)."""
        return np.asarray(self._before[:, _FLAG[flag]])

    def after(self, flag: str) -> NDArray[np.bool_]:
        """The flag of the token just after each span (False at the sentence's end)."""
        return np.asarray(self._after[:, _FLAG[flag]])


class _Spans:
    """Token positions of the candidates and of their neighbours."""

    def __init__(self, candidates: Sequence[Candidate], n_tokens: int) -> None:
        self.first = np.array([c.first for c in candidates], dtype=np.intp)
        self.last = np.array([c.last for c in candidates], dtype=np.intp)
        self.size = self.last - self.first + 1
        self.has_before = self.first > 0
        self.has_after = self.last + 1 < n_tokens
        # Where a neighbour is missing, any position: `has_before` / `has_after` mask it.
        self.before = np.where(self.has_before, self.first - 1, 0)
        self.after = np.where(self.has_after, self.last + 1, 0)


def feature_rows(
    tokens: Sequence[Token], candidates: Sequence[Candidate], q: QuestionInfo
) -> NDArray[np.float64]:
    """The values of FEATURES (columns, in order) of every candidate (rows), computed over all
    candidates at once. A name not in FEATURES fails loudly."""
    x = np.zeros((len(candidates), len(FEATURES)), dtype=np.float64)
    if not candidates:
        return x

    def put(name: str, values: NDArray[np.generic]) -> None:
        x[:, _COLUMN[name]] = values

    spans = _Spans(candidates, len(tokens))
    facts = _Tokens(tokens, q, spans)
    for kind in KINDS:
        has = np.array([kind in c.kinds for c in candidates], dtype=bool)
        if has.any():
            put(f"{q.kind}*{kind}", has)
            if q.focus:
                put(f"focus*{kind}", has)
    for k, name in enumerate(PREVIOUS_CLASSES):
        if (after := facts.previous == k).any():
            put(f"{q.kind}*after_{name}", after)
    put("tokens", spans.size / 5)
    put(f"{q.kind}*tokens", spans.size / 5)
    put("single_token", spans.size == 1)
    put("long_span", spans.size > 5)
    words = np.maximum(1, facts.within("word"))
    put("in_question_share", facts.within("asked") / words)
    _match_features(facts, q, put)
    put("after_copula", facts.before("copula"))
    put("before_copula", facts.after("copula"))
    put("after_comma", facts.before("comma"))
    put("before_comma", facts.after("comma"))
    put("in_brackets", facts.before("bracket"))
    put("at_end", ~spans.has_after | facts.after("stop"))
    if q.focus:
        put("focus_in_span", facts.within("focus") > 0)
        put("focus_adjacent", facts.before("focus") | facts.after("focus"))
    put("position", spans.first / max(1, len(tokens)))
    put("sentence_initial", spans.first == 0)
    put("capitalised_share", facts.within("upper") / words)
    put("has_digit", facts.within("digit") > 0)
    return x


def _match_features(
    facts: _Tokens, q: QuestionInfo, put: Callable[[str, NDArray[np.generic]], None]
) -> None:
    """Where the question's words are relative to each span: the nearest one's side and
    distance, and how many distinct ones lie within NEAR tokens of it."""
    spans, matches = facts.spans, facts.matches
    if not len(matches):
        put("no_match", np.ones(len(spans.first), dtype=bool))
        return
    i = np.searchsorted(matches, spans.first, side="left")  # matches[:i] lie before the span
    j = np.searchsorted(matches, spans.last, side="right")  # matches[j:] after it
    has_left, has_right = i > 0, j < len(matches)
    left = spans.first - matches[np.maximum(i - 1, 0)]
    right = matches[np.minimum(j, len(matches) - 1)] - spans.last
    closer_left = has_left & (~has_right | (left <= right))
    found = has_left | has_right
    distance = np.where(found, np.where(closer_left, left, right), 0)
    # math.log1p, not np.log1p: they can differ in the last bit.
    log1p = np.array([math.log1p(d) for d in range(facts.n + 1)], dtype=np.float64)
    put("no_match", ~found)
    put("log_distance", log1p[distance])
    put("after_match", closer_left)
    put("match_just_before", has_left & (left <= 2))
    put("match_just_after", has_right & (right <= 2))
    # Distinct question stems among the matches up to NEAR tokens before and after each span.
    stems = sorted(q.stems)
    ids = {s: k for k, s in enumerate(stems)}
    held = np.zeros((facts.n + 1, max(1, len(stems))), dtype=np.int64)
    for m, stem in zip(matches.tolist(), facts.match_stems, strict=True):
        held[m + 1, ids[stem]] += 1
    cum = np.cumsum(held, axis=0)  # cum[p]: matches of each stem before token p
    first, last = spans.first, spans.last
    near = cum[first] - cum[np.maximum(first - NEAR, 0)]
    near += cum[np.minimum(last + NEAR + 1, facts.n)] - cum[last + 1]
    put("window_matches", (near > 0).sum(axis=1) / max(1, len(q.stems)))


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
    return Scored(q, candidates, feature_rows(tokens, candidates, q))


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
