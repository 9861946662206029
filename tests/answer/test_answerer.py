from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from qa.answer.answerer import Answerer, needs_context
from qa.answer.ranker import Ranker
from qa.answer.retrieval import Retriever
from qa.corpus.documents import make_document
from qa.index.build import build
from qa.index.chunking import Chunking
from tests.conftest import FakeEmbedder

SIMPLE = ("dense", "bm25", "coverage")

ARTICLE = (
    "The ministries signed a chip agreement in July 2023. They have held regular meetings since "
    "then.\nThe summit will be hosted by India later this year.\nFootball is not mentioned here.\n"
)


def answerer(ranker: Ranker | None = None, threshold: float = 0.5) -> Answerer:
    embedder = FakeEmbedder()
    index = build([make_document("news", ARTICLE)], embedder, Chunking(2, 1))
    ranker = ranker or Ranker(SIMPLE, np.array([4.0, 4.0, 6.0]), -6.0)
    return Answerer(index, Retriever(index, embedder, ranker), threshold)


def verify(answer, text: str = ARTICLE) -> None:
    for c in answer.citations:
        assert text[c.start : c.end] == c.text
    if answer.text is not None:
        assert answer.citations[0].text == answer.text


@pytest.mark.parametrize(
    ("sentence", "expected"),
    [
        ("They have held regular meetings since then.", True),
        ("It also provides for measures.", True),
        ("“They reiterated their opposition,” the statement said.", True),
        ("India and Japan agreed.", False),
        ("Theyre is not a word.", False),
    ],
)
def test_needs_context(sentence: str, expected: bool) -> None:
    assert needs_context(sentence) is expected


def test_best_sentence_is_answered_and_cited_exactly() -> None:
    answer = answerer().ask("Who will host the summit later this year?")
    assert answer.text == "The summit will be hosted by India later this year."
    verify(answer)
    assert 0.5 <= answer.confidence <= 1


def test_sentence_leaning_on_its_neighbour_brings_it_along() -> None:
    answer = answerer().ask("regular meetings since then")
    assert answer.text is not None
    assert answer.text.startswith("The ministries signed a chip agreement")
    assert answer.text.endswith("They have held regular meetings since then.")
    assert answer.citations[0].sentence_index == 1
    verify(answer)


def test_off_topic_question_abstains_but_lists_closest() -> None:
    answer = answerer().ask("capital of France", top_k=2)
    assert answer.text is None
    assert answer.confidence < 0.5
    assert len(answer.citations) == 2
    verify(answer)


def test_threshold_is_a_setting() -> None:
    assert answerer(threshold=1.0).ask("Who will host the summit later this year?").text is None


def test_top_k_bounds_citations_and_skips_the_answer_span() -> None:
    answer = answerer().ask("regular meetings since then", top_k=5)
    starts = [c.start for c in answer.citations]
    assert len(starts) == len(set(starts)) <= 5
    lead = answer.citations[0]
    for other in answer.citations[1:]:
        assert other.end <= lead.start or other.start >= lead.end


def test_ranker_weights_decide_the_order() -> None:
    # A ranker that prefers low similarity answers with another sentence: ranking is the
    # ranker's. The threshold 0 makes both answer, so an abstention cannot pass for a difference.
    question = "Who will host the summit?"
    right = answerer(threshold=0.0).ask(question, top_k=3)
    inverse = Ranker(SIMPLE, np.array([-5.0, -5.0, -5.0]), 5.0)
    wrong = answerer(inverse, threshold=0.0).ask(question, top_k=3)
    assert right.text == "The summit will be hosted by India later this year."
    assert wrong.text is not None and wrong.text != right.text
    assert wrong.citations[0].start != right.citations[0].start
    verify(wrong)


def test_empty_index_abstains(tmp_path: Path) -> None:
    embedder = FakeEmbedder()
    index = build([], embedder, Chunking())
    ranker = Ranker(SIMPLE, np.ones(len(SIMPLE)), 0.0)
    answer = Answerer(index, Retriever(index, embedder, ranker)).ask("anything")
    assert answer.text is None and answer.citations == []


def test_short_answer_is_found_in_the_answering_sentence_not_the_one_before(monkeypatch) -> None:
    from qa.answer import spans

    seen: list[str] = []

    def first_word(sentence: str, question: str) -> spans.ShortAnswer:
        seen.append(sentence)
        return spans.ShortAnswer(0, 4, sentence[:4], 0.9)

    monkeypatch.setattr(spans, "best_span", first_word)
    answer = answerer().ask("regular meetings since then")
    assert answer.text is not None and answer.text.startswith("The ministries")
    assert seen == ["They have held regular meetings since then."]
    assert answer.answer_span is not None
    span = answer.answer_span
    assert ARTICLE[span.start : span.end] == span.text == "They"
    lead = answer.citations[0]
    assert lead.start < span.start and span.end <= lead.end


def test_abstention_has_no_short_answer() -> None:
    answer = answerer(threshold=1.01).ask("Who will host the summit later this year?")
    assert answer.text is None and answer.answer_span is None


def test_short_answer_of_a_who_question_is_a_name_in_the_answer() -> None:
    answer = answerer().ask("Who will host the summit later this year?")
    assert answer.answer_span is not None and answer.answer_span.text == "India"
    assert ARTICLE[answer.answer_span.start : answer.answer_span.end] == "India"
