"""Answer-type cues: what a question asks for, and whether a sentence holds a new one."""

from __future__ import annotations

import pytest

from qa.answer.cues import (
    AnswerType,
    answer_type,
    capitalised,
    figures,
    focus_word,
    has_answer,
    question_words,
)


@pytest.mark.parametrize(
    ("question", "kind"),
    [
        ("When did the leaders meet?", AnswerType.DATE),
        ("What year was the treaty signed?", AnswerType.DATE),
        ("How many delegates came?", AnswerType.NUMBER),
        ("What percentage of voters agreed?", AnswerType.NUMBER),
        ("Who hosted the summit?", AnswerType.PERSON),
        ("Where will the summit be held?", AnswerType.PLACE),
        ("What city hosts the games?", AnswerType.PLACE),
        ("Why did talks fail?", AnswerType.NONE),
        ("What is the plan?", AnswerType.NONE),
    ],
)
def test_answer_type_from_the_wh_words(question: str, kind: AnswerType) -> None:
    assert answer_type(question) is kind


def test_a_date_in_the_sentence_counts_unless_the_question_says_it() -> None:
    said = question_words("When did they meet in 2023?")
    assert has_answer(AnswerType.DATE, "They met on Friday.", said)
    assert not has_answer(AnswerType.DATE, "They met in 2023.", said)
    assert not has_answer(AnswerType.DATE, "They met.", said)


def test_a_number_counts_in_digits_or_words() -> None:
    said = question_words("How many delegates came?")
    assert has_answer(AnswerType.NUMBER, "About 1,300 delegates came.", said)
    assert has_answer(AnswerType.NUMBER, "Several hundred delegates came.", said)
    assert not has_answer(AnswerType.NUMBER, "Delegates came.", said)


def test_a_person_is_a_name_the_question_does_not_use() -> None:
    said = question_words("Who met Ishiba?")
    assert has_answer(AnswerType.PERSON, "Ishiba met Narendra Modi.", said)
    assert not has_answer(AnswerType.PERSON, "He met Ishiba.", said)
    # A capitalised first word is not a name.
    assert not has_answer(AnswerType.PERSON, "Yesterday they met.", said)


def test_a_place_needs_a_preposition_and_a_new_name() -> None:
    said = question_words("Where did Ishiba go?")
    assert has_answer(AnswerType.PLACE, "Ishiba went to Canberra.", said)
    assert not has_answer(AnswerType.PLACE, "Ishiba thanked Modi.", said)  # no preposition
    assert not has_answer(AnswerType.PLACE, "Ishiba went home.", said)


def test_a_question_with_no_type_accepts_any_sentence() -> None:
    assert has_answer(AnswerType.NONE, "Anything at all.", frozenset())


def test_question_words_are_lower_cased_words_with_apostrophes_and_hyphens() -> None:
    assert question_words("Who is Japan's long-time PM?") == {
        "who",
        "is",
        "japan's",
        "long-time",
        "pm",
    }


@pytest.mark.parametrize(
    ("question", "word"),
    [
        ("Which city will host the summit?", "city"),
        ("How many kinds of chips are made?", "chips"),
        ("What type of reactor failed?", "reactor"),
        ("What is the plan?", None),
        ("Who came?", None),
    ],
)
def test_focus_word(question: str, word: str | None) -> None:
    assert focus_word(question) == word


def test_capitalised_words_and_figures() -> None:
    text = "Tata Electronics will invest 10.5 billion in Gujarat by 2026."
    assert capitalised(text) == ["Tata", "Electronics", "Gujarat"]
    assert figures(text) == {"10.5", "2026."}


def test_the_same_sentence_is_judged_against_each_question_anew() -> None:
    sentence = "They met in 2023 with Modi."
    assert has_answer(AnswerType.DATE, sentence, question_words("When did they meet?"))
    assert not has_answer(AnswerType.DATE, sentence, question_words("When in 2023 did they?"))
    assert has_answer(AnswerType.PERSON, sentence, question_words("Who met them?"))
    assert not has_answer(AnswerType.PERSON, sentence, question_words("Who met Modi?"))
