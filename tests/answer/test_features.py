"""The feature registry: every feature, computed over all candidates at once, equals a plain
per-candidate computation; names are unique and grouped in families; the ranker reads by name."""

from __future__ import annotations

import itertools
import math
from functools import cache

import numpy as np
import pytest

from qa.answer.batch import Batch, RowTokens
from qa.answer.cues import (
    AnswerType,
    answer_type,
    capitalised,
    figures,
    focus_word,
    has_answer,
    question_words,
)
from qa.answer.features import (
    ALL_FEATURES,
    FAMILIES,
    FAMILY_ORDER,
    FEATURES,
    NAMES,
    QUESTION_FEATURES,
    feature_matrix,
    question_values,
    relative,
)
from qa.answer.ranker import MARGIN, TOP_LOGIT, Ranker
from qa.answer.reading import READER_VALUES
from qa.answer.retrieval import Retriever
from qa.corpus.documents import make_document
from qa.index.build import build
from qa.index.chunking import Chunking
from qa.index.lexical import tokenize
from qa.index.model import Index
from tests.conftest import FakeEmbedder

ARTICLES = {
    "summit": (
        "Prime Minister Narendra Modi met Shigeru Ishiba in Tokyo on Friday. They agreed that "
        "India will host the Quad summit in 2026.\nThe summit was planned for New Delhi. "
        "About 1,300 delegates are expected.\n\nOfficials in Canberra welcomed the plan."
    ),
    "chips": (
        "Semiconductor factories will open in Gujarat next year. The investment is worth 10 "
        "billion dollars. Tata Electronics leads the project."
    ),
    "single": "Football is not mentioned anywhere else.",
    # The middle sentence has no tokens: "quad summit" straddles it in the window's run.
    "bridge": "Delegates praised the Quad. And then it was. Summit talks continue.",
}
QUESTIONS = [
    "Which city will host the Quad summit in 2026?",
    "Who met Shigeru Ishiba in Tokyo?",
    "How many delegates are expected at the summit?",
    "When will the semiconductor factories open in Gujarat?",
    "Where was the summit planned?",
    "What is it?",  # every word a stopword: no question terms at all
    "Tell me about 10 billion dollars of investment",
]


@pytest.fixture(scope="module")
def index() -> Index:
    documents = [make_document(doc_id, text) for doc_id, text in ARTICLES.items()]
    return build(documents, FakeEmbedder(), Chunking(2, 1))


@cache
def _tokens(text: str) -> tuple[str, ...]:
    return tuple(tokenize([text])[0])


def batch_for(index: Index, question: str) -> Batch:
    """Every sentence of the index as a candidate."""
    q = FakeEmbedder().encode([question])[0]
    q_tokens = tokenize([question])[0]
    word = focus_word(question)
    focus_tokens = tokenize([word])[0] if word else []
    rows = list(range(index.sentence_count))
    bm25 = index.lexical.scores(q_tokens)
    chunk_bm25 = index.chunk_lexical.scores(q_tokens)

    def row_tokens(row: int) -> RowTokens:
        text = index.sentence_text(row)
        return RowTokens.of(text, _tokens(text))

    focus = focus_tokens[0] if focus_tokens else None
    return Batch(index, question, q, q_tokens, focus, rows, bm25, chunk_bm25, row_tokens)


def reference(b: Batch) -> dict[str, list[float]]:
    """Each feature, one candidate at a time, the plain way (float64 dot products)."""
    index, question, q = b.index, b.question, b.q.astype(np.float64)
    q_terms = set(b.q_tokens)
    weights = {t: index.lexical.idf(t) for t in q_terms}
    total = sum(weights.values())

    def cover(tokens: set[str]) -> float:
        return sum(w for t, w in weights.items() if t in tokens) / total if total > 0 else 0.0

    def side_cover(row: int | None) -> float:
        return 0.0 if row is None else cover(set(_tokens(index.sentence_text(row))))

    def cos(vector: np.ndarray) -> float:
        return float(vector.astype(np.float64) @ q)

    kind = answer_type(question)
    q_names = set(capitalised(question)) - {question.split()[0].strip("?")}
    q_figures = figures(question)
    q_bigrams = set(itertools.pairwise(b.q_tokens))
    out: dict[str, list[float]] = {name: [] for name in NAMES}
    coverages = []
    for row in b.rows.tolist():
        doc = int(index.sentence_doc[row])
        first, end = int(index.doc_first_row[doc]), int(index.doc_first_row[doc + 1])
        window = [r for r in (row - 1, row, row + 1) if first <= r < end]
        prev = row - 1 if row > first else None
        next_ = row + 1 if row + 1 < end else None
        tokens = _tokens(index.sentence_text(row))
        token_set = set(tokens)
        window_set = {t for r in window for t in _tokens(index.sentence_text(r))}
        text = index.sentence_text(row)
        sims = [cos(index.sentence_vectors[r]) for r in window]
        values = {
            "dense": cos(index.sentence_vectors[row]),
            "chunk_dense": max(cos(index.chunk_vectors[c]) for c in index.sentence_chunks[row]),
            "doc_dense": cos(index.doc_vectors[doc]),
            "para_dense": cos(index.para_vectors[index.sentence_para[row]]),
            "bm25": float(b.bm25[row]),
            "window_bm25": max(float(b.bm25[r]) for r in window),
            "chunk_bm25": max(float(b.chunk_bm25[c]) for c in index.sentence_chunks[row]),
            "coverage": cover(token_set),
            "window_coverage": cover(window_set),
            "prev_coverage": cover(set(_tokens(index.sentence_text(prev))))
            if prev is not None
            else 0.0,
            "next_coverage": cover(set(_tokens(index.sentence_text(next_))))
            if next_ is not None
            else 0.0,
            "bigram": (
                len(q_bigrams & set(itertools.pairwise(_window_tokens(index, window))))
                / len(q_bigrams)
                if q_bigrams
                else 0.0
            ),
            "novelty": len(token_set - q_terms) / max(1, len(token_set)),
            "has_type": float(kind is not AnswerType.NONE),
            "lead": 1.0 / (1 + int(index.sentence_local[row])),
            "length": math.log1p(len(token_set)),
            "focus": float(b.focus is not None and b.focus in token_set),
            "window_focus": float(b.focus is not None and b.focus in window_set),
            "names": len(q_names & set(capitalised(text))) / len(q_names) if q_names else 0.0,
            "new_names": sum(n not in q_names and n not in question for n in capitalised(text))
            / (1 + len(token_set)),
            "proximity": _proximity(tokens, q_terms),
            "figures": sum(f in text for f in q_figures) / len(q_figures) if q_figures else 0.0,
            "prev_dense": cos(index.sentence_vectors[prev]) if prev is not None else 0.0,
            "next_dense": cos(index.sentence_vectors[next_]) if next_ is not None else 0.0,
            "window_dense": max(sims),
            "window_dense_mean": sum(sims) / len(sims),
        }
        said = question_words(question)
        match = kind is not AnswerType.NONE and has_answer(kind, text, said)
        window_text = index.window_text(window[0], window[-1])
        values["type_match"] = float(match)
        values["window_type_match"] = float(
            match or (kind is not AnswerType.NONE and has_answer(kind, window_text, said))
        )
        coverages.append(values["coverage"])
        for name in NAMES:
            if name != "best_coverage":
                out[name].append(values[name])
    out["best_coverage"] = [max(coverages)] * len(coverages)
    return out


def _window_tokens(index: Index, window: list[int]) -> list[str]:
    return [t for r in window for t in _tokens(index.sentence_text(r))]


def _proximity(tokens: tuple[str, ...], terms: set[str]) -> float:
    at = [i for i, t in enumerate(tokens) if t in terms]
    return len({tokens[i] for i in at}) / (at[-1] - at[0] + 1) if at else 0.0


@pytest.mark.parametrize("question", QUESTIONS)
def test_every_feature_equals_its_per_candidate_reference(index: Index, question: str) -> None:
    b = batch_for(index, question)
    matrix = feature_matrix(b)
    expected = reference(b)
    assert matrix.shape == (index.sentence_count, len(NAMES))
    for j, name in enumerate(NAMES):
        # Dense features are float32 products here and float64 in the reference.
        tolerance = 1e-6 if "dense" in name else 1e-12
        np.testing.assert_allclose(matrix[:, j], expected[name], atol=tolerance, err_msg=name)


def test_the_example_exercises_the_features(index: Index) -> None:
    """The reference comparison means something only where features are not all zero."""
    assert any(not _tokens(index.sentence_text(r)) for r in range(index.sentence_count))
    matrices = [feature_matrix(batch_for(index, q)) for q in QUESTIONS]
    for j, name in enumerate(NAMES):
        assert any(np.ptp(m[:, j]) > 0 or m[0, j] != 0 for m in matrices), name


def test_names_are_unique_and_every_feature_has_one_family() -> None:
    assert len(set(NAMES)) == len(NAMES) == len(FEATURES)
    assert list(FAMILIES) == list(FAMILY_ORDER)
    grouped = [name for names in FAMILIES.values() for name in names]
    assert sorted(grouped) == sorted(NAMES)  # each feature in exactly one family
    assert all(FAMILIES.values())


def test_all_features_are_each_feature_its_gap_and_its_rank() -> None:
    n = len(NAMES)
    assert ALL_FEATURES[:n] == NAMES
    assert ALL_FEATURES[n : 2 * n] == tuple(f"gap:{f}" for f in NAMES)
    assert ALL_FEATURES[2 * n :] == tuple(f"rank:{f}" for f in NAMES)
    assert not set(QUESTION_FEATURES) & set(ALL_FEATURES)


def test_relative_gives_gaps_to_the_best_and_reciprocal_ranks() -> None:
    matrix = np.array([[0.2, 1.0], [0.5, 1.0], [0.1, 3.0]])
    out = relative(matrix)
    np.testing.assert_allclose(out[:, :2], matrix)
    np.testing.assert_allclose(out[:, 2:4], [[-0.3, -2.0], [0.0, -2.0], [-0.4, 0.0]])
    # Ranks from 0, best first, ties in candidate order; offset 5.
    np.testing.assert_allclose(out[:, 4:], 1 / (5 + np.array([[1, 1], [0, 2], [2, 0]])))
    assert relative(np.zeros((0, 2))).shape == (0, len(ALL_FEATURES))


def test_question_values_count_terms_no_article_uses() -> None:
    assert question_values({"summit": 3}, ["summit", "zebra", "zebra"]) == {"unknown": 0.5}
    assert question_values({}, []) == {"unknown": 0.0}


def test_the_packaged_ranker_reads_only_registered_names() -> None:
    ranker = Ranker.load()
    assert set(ranker.features) <= set(ALL_FEATURES)
    assert ranker.calibrator is not None
    known = {*ALL_FEATURES, *QUESTION_FEATURES, TOP_LOGIT, MARGIN, *READER_VALUES}
    assert set(ranker.calibrator.features) <= known


def test_the_ranker_reads_its_columns_by_name(index: Index) -> None:
    embedder = FakeEmbedder()
    question = QUESTIONS[0]
    for name in ("coverage", "rank:dense", "gap:bm25"):
        ranker = Ranker((name,), np.array([1.0]), 0.0)
        candidates = Retriever(index, embedder, ranker).retrieve(question)
        column = ALL_FEATURES.index(name)
        assert [c.score for c in candidates] == [c.features[column] for c in candidates]


def test_a_ranker_naming_an_unregistered_feature_is_refused(index: Index) -> None:
    ranker = Ranker(("dense", "made_up"), np.array([1.0, 1.0]), 0.0)
    with pytest.raises(ValueError, match="made_up"):
        Retriever(index, FakeEmbedder(), ranker)
