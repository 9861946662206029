"""The span features, computed over all candidates at once, equal the per-candidate
definition they replaced (kept here as the reference), value for value."""

from __future__ import annotations

import bisect
import json
import math
from pathlib import Path

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from qa.answer.span_candidates import COPULA, Candidate, find_candidates
from qa.answer.span_features import _COLUMN, FEATURES, PREVIOUS, feature_rows, featurize
from qa.answer.span_tokens import QuestionInfo, Token, question_info, tokenize
from qa.corpus.documents import read_corpus


def reference_row(
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


def reference(sentence: str, question: str) -> np.ndarray:
    q = question_info(question)
    tokens = tokenize(sentence)
    candidates = find_candidates(sentence, tokens, q)
    matches = [i for i, t in enumerate(tokens) if t.stem in q.stems and t.word]
    rows = [reference_row(tokens, c, q, matches) for c in candidates]
    return np.array(rows, dtype=np.float64).reshape(len(candidates), len(FEATURES))


SENTENCES = [
    "“We will not back down,” said Prime Minister Narendra Modi in Tokyo on Friday.",
    "The U.S. and Ménières-sur-Mer signed the deal with Dr. Smith, e.g. on 3 Jan. 2024.",
    "São Paulo’s mayor said the café had 1,300 visitors 🙂 and earned $5 billion (3.5%).",
    "The Ministry of Economy, Trade and Industry said 20 per cent of the 1990s budget went.",
    "The summit was opened by Shigeru Ishiba in Tokyo on Friday, since 1990 (in [brackets]).",
]
QUESTIONS = [
    "Who opened the summit in Tokyo?",
    "When did the ministry say the budget went?",
    "How many visitors did the café have?",
    "Which city did Prime Minister Modi visit on Friday?",
    "What year was it signed with Dr. Smith?",
    "What is the capital of France?",
    "",
]


@pytest.mark.parametrize("sentence", SENTENCES)
@pytest.mark.parametrize("question", QUESTIONS)
def test_equal_to_the_per_candidate_definition(sentence: str, question: str) -> None:
    got = featurize(sentence, question).x
    assert got.shape[0] > 0
    assert np.array_equal(got, reference(sentence, question))  # bit for bit


def test_equal_on_the_seed_article_for_every_gold_question() -> None:
    root = Path(__file__).resolve().parents[2]
    documents, _ = read_corpus(root / "seeds")
    sentences = [d.text[s.start : s.end] for d in documents for s in d.sentences]
    gold = root / "eval" / "gold.jsonl"
    questions = [json.loads(line)["question"] for line in gold.read_text().splitlines()]
    compared = 0
    for question in questions[:40]:
        for sentence in sentences:
            want = reference(sentence, question)
            assert np.array_equal(featurize(sentence, question).x, want), (sentence, question)
            compared += want.size
    assert compared > 10_000


PIECES = [*"ab AB 12,.()[]!?-'’", "in ", "by ", "is ", "the ", "Tokyo ", "met ", "since "]
PIECES += ["1990 ", "Modi ", "of ", "Prime ", "Minister "]


@settings(max_examples=300, deadline=None)
@given(
    st.lists(st.sampled_from(PIECES), max_size=30).map("".join),
    st.sampled_from(
        [*QUESTIONS, "Who met Modi in Tokyo?", "Which Tokyo?", "Who is the Prime Minister?"]
    ),
)
def test_equal_on_generated_sentences(sentence: str, question: str) -> None:
    assert np.array_equal(featurize(sentence, question).x, reference(sentence, question))


def test_no_candidates_give_an_empty_matrix() -> None:
    q = question_info("Who?")
    assert feature_rows([], [], q).shape == (0, len(FEATURES))
