"""Follow-up questions through the engine, with the fake embedder (milliseconds each)."""

from __future__ import annotations

import dataclasses

import pytest

from qa.answer.answerer import Answer
from qa.answer.filters import ArticleFilter
from qa.answer.followup import Turn
from qa.core.settings import Settings
from qa.engine.engine import Engine
from tests.conftest import FakeEmbedder

CHIPS = Turn("Where will the semiconductor factories open?", "chips")
QUAD = Turn("Where did the two leaders meet?", "quad")


@pytest.fixture
def engine(settings: Settings) -> Engine:
    # Threshold 0: every best sentence is an answer, so "prefer the article" is what decides.
    return Engine.open(
        settings.model_copy(update={"abstain_threshold": 0.0}), embedder=FakeEmbedder()
    )[0]


def fields(answer: object) -> dict[str, object]:
    return {k: v for k, v in dataclasses.asdict(answer).items() if k != "took_ms"}  # type: ignore[call-overload]


@pytest.mark.parametrize("question", ["Who welcomed the plan?", "semiconductor investment worth"])
def test_a_question_that_stands_alone_is_answered_as_without_history(
    engine: Engine, question: str
) -> None:
    alone = engine.ask(question)
    for history in ([CHIPS], [QUAD], [QUAD, CHIPS]):
        assert fields(engine.ask(question, history=history)) == fields(alone)
    assert alone.interpreted_as is None


def test_a_follow_up_about_it_is_answered_from_the_previous_answers_article(
    engine: Engine,
) -> None:
    for turn in (CHIPS, QUAD):
        answer = engine.ask("When will it happen?", history=[turn])
        assert answer.question == "When will it happen?"
        assert answer.interpreted_as is not None and "(about: " in answer.interpreted_as
        assert answer.citations[0].doc_id == turn.doc_id
    # The article cited decides, not the words of the previous question.
    crossed = Turn(QUAD.question, "chips")
    assert engine.ask("When will it happen?", history=[crossed]).citations[0].doc_id == "chips"


def test_an_unknown_doc_id_in_the_history_is_ignored(engine: Engine) -> None:
    answer = engine.ask("When will it happen?", history=[Turn(CHIPS.question, "deleted")])
    assert answer.interpreted_as is not None  # still a follow-up, from any article


def test_the_filter_wins_over_the_previous_answers_article(engine: Engine) -> None:
    answer = engine.ask(
        "When will it happen?", history=[CHIPS], where=ArticleFilter(frozenset({"quad"}))
    )
    assert {c.doc_id for c in answer.citations} == {"quad"}


class RecordingAnswerer:
    """Abstains when asked within one article; answers when asked over all of them."""

    def __init__(self) -> None:
        self.calls: list[tuple[str, int | None]] = []

    def ask(self, question: str, top_k: int = 3, allowed: object = None) -> Answer:
        rows = None if allowed is None else int(allowed.sum())  # type: ignore[attr-defined]
        self.calls.append((question, rows))
        return Answer(question, None if allowed is not None else "An answer.", 0.5, [], 1.0)


def test_when_the_previous_article_does_not_answer_every_article_is_asked(
    engine: Engine,
) -> None:
    recording = RecordingAnswerer()
    engine.state = dataclasses.replace(engine.state, answerer=recording)  # type: ignore[arg-type]
    answer = engine.ask("When will it happen?", history=[CHIPS])
    chips_rows = len(engine.index.documents[engine.index.doc_pos["chips"]].sentences)
    assert recording.calls == [
        ("When will it happen?", chips_rows),
        ("When will it happen? semiconductor factories open", None),
    ]
    assert answer.text == "An answer." and answer.question == "When will it happen?"
