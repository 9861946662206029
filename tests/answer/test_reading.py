"""The reader stage: the reader re-orders the ranker's best few, and says how sure it is."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import pytest

from qa.answer.answerer import CONFIDENCE_DIGITS, Answerer, reader_span
from qa.answer.candidate import Candidate
from qa.answer.ranker import Ranker
from qa.answer.reader import ReadCandidate, Reading
from qa.answer.reading import NO_RUNNER_UP, READER, READER_MARGIN, READER_NONE, ReaderStage
from qa.answer.retrieval import Retriever
from qa.corpus.documents import make_document
from qa.index.build import build
from qa.index.chunking import Chunking
from tests.conftest import FakeEmbedder

ARTICLE = (
    "The summit was held in Tokyo in April. Its host was Prime Minister Shigeru Ishiba.\n"
    "The mayor of Osaka, Hideyuki Yokoyama, opened the fair.\nFootball is not mentioned here.\n"
)


class FakeReader:
    """Relevance from a table of sentence prefixes; the span is the sentence's last word."""

    def __init__(self, relevance: dict[str, float], none: float = -1.0) -> None:
        self.relevance = relevance
        self.none = none
        self.read_pairs: list[tuple[str, str]] = []

    def read(self, question: str, candidates: Sequence[tuple[str, str]]) -> Reading:
        out = []
        for previous, sentence in candidates:
            self.read_pairs.append((previous, sentence))
            score = next((v for k, v in self.relevance.items() if sentence.startswith(k)), -5.0)
            start = sentence.rstrip(".").rfind(" ") + 1
            out.append(ReadCandidate(score, start, len(sentence.rstrip(".")), 0.0))
        return Reading(self.none, tuple(out))


def index():
    return build([make_document("news", ARTICLE)], FakeEmbedder(), Chunking(2, 1))


def candidates(n: int) -> list[Candidate]:
    return [Candidate(row, (0.0,), float(10 - row)) for row in range(n)]


def test_the_reader_reorders_the_top_k_and_the_rest_stay_below_in_ranker_order() -> None:
    reader = FakeReader({"The mayor": 3.0, "Its host": 1.0})
    stage = ReaderStage(reader, k=3)
    ordered, values = stage.rerank(index(), "Who is the mayor of Osaka?", candidates(4))
    assert [c.row for c in ordered] == [2, 1, 0, 3]
    assert len(reader.read_pairs) == 3  # only the top k are read
    # Each is read with the sentence before it (none for an article's first).
    assert reader.read_pairs[0][0] == ""
    assert reader.read_pairs[2][0] == "Its host was Prime Minister Shigeru Ishiba."
    assert ordered[0].reading is not None and ordered[3].reading is None
    assert values == {READER: 3.0, READER_MARGIN: 2.0, READER_NONE: -1.0}


def test_the_ranker_weight_breaks_what_the_reader_leaves_close() -> None:
    reader = FakeReader({"The summit": 1.0, "Its host": 1.2})
    rows = candidates(2)  # ranker logits 10 and 9
    assert ReaderStage(reader, k=2).rerank(index(), "q?", rows)[0][0].row == 1
    assert ReaderStage(reader, k=2, ranker_weight=0.5).rerank(index(), "q?", rows)[0][0].row == 0


def test_one_read_candidate_has_the_capped_margin() -> None:
    _, values = ReaderStage(FakeReader({}), k=1).rerank(index(), "q?", candidates(3))
    assert values[READER_MARGIN] == NO_RUNNER_UP


def answerer(reader: FakeReader, threshold: float) -> Answerer:
    embedder = FakeEmbedder()
    built = index()
    ranker = Ranker(("dense", "bm25", "coverage"), np.array([4.0, 4.0, 6.0]), -6.0)
    retriever = Retriever(built, embedder, ranker, stage=ReaderStage(reader, k=3))
    return Answerer(built, retriever, threshold)


@pytest.mark.parametrize("margin", [-1e-9, 0.0])
def test_one_number_decides_no_answer_is_shown_below_the_threshold(margin: float) -> None:
    question = "Who opened the fair in Osaka?"
    probe = answerer(FakeReader({"The mayor": 3.0}), 0.0).ask(question)
    threshold = probe.confidence - margin  # just above it, or exactly it
    answer = answerer(FakeReader({"The mayor": 3.0}), threshold).ask(question)
    assert answer.confidence == probe.confidence
    if probe.confidence < threshold:
        assert answer.text is None and answer.answer_span is None
    else:
        assert answer.text is not None and answer.confidence >= threshold


@pytest.mark.parametrize("offset", [-1e-4, -5e-5, -1e-5, 0.0, 1e-5, 4e-5, 5e-5, 1e-4])
def test_the_shown_confidence_decides_even_against_a_finer_threshold(offset: float) -> None:
    question = "Who opened the fair in Osaka?"
    shown = answerer(FakeReader({"The mayor": 3.0}), 0.0).ask(question).confidence
    assert round(shown, CONFIDENCE_DIGITS) == shown  # what POST /ask sends, unchanged
    threshold = shown + offset
    answer = answerer(FakeReader({"The mayor": 3.0}), threshold).ask(question)
    assert answer.confidence == shown
    assert (answer.text is not None) == (shown >= threshold)


def test_a_short_answer_is_marked_only_when_it_is_the_kind_asked_for() -> None:
    reader = FakeReader({"The summit": 3.0})
    # The span is the sentence's last word: "April" for a who-question is no person.
    answer = answerer(reader, 0.0).ask("Who hosted the summit in Tokyo?")
    assert answer.text is not None and answer.text.startswith("The summit")
    assert answer.answer_span is None
    answer = answerer(reader, 0.0).ask("When was the summit held in Tokyo?")
    assert answer.answer_span is not None and answer.answer_span.text == "April"
    assert ARTICLE[answer.answer_span.start : answer.answer_span.end] == "April"


@pytest.mark.parametrize(
    ("question", "span", "marked"),
    [
        ("Who met the prime minister?", "on Friday", False),  # a day is no person
        ("Who met the prime minister?", "in March 2025", False),
        ("Who met the prime minister?", "Shigeru Ishiba", True),
        ("When did the leaders meet?", "Shigeru Ishiba", False),  # a name is no date
        ("When did the leaders meet?", "on Friday", True),
        ("How many factories will open?", "in Gujarat", False),
        ("Where will the factories open?", "on Friday", False),
    ],
)
def test_reader_span_marks_only_the_kind_asked_for(question: str, span: str, marked: bool) -> None:
    sentence = f"Officials said {span} was the answer."
    start = sentence.index(span)
    reading = ReadCandidate(2.0, start, start + len(span), 0.0)
    got = reader_span(question, sentence, reading, threshold=-1.0)
    assert (got == (start, start + len(span))) is marked, got
