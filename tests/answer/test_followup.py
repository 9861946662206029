"""The follow-up resolver: pure rules over words, no model."""

from __future__ import annotations

import pytest

from qa.answer.followup import MAX_TURNS, Turn, kind_of, phrases, resolve, standalone

BRIDGE = Turn("How much did the Harbour Bridge repair cost?", "bridge")


@pytest.mark.parametrize(
    ("question", "kind"),
    [
        ("How much did it cost?", "pronoun"),
        ("When did they win the contract?", "pronoun"),
        ("Who welcomed its launch?", "pronoun"),
        ("When will that end?", "pronoun"),
        ("how much did that cost", "pronoun"),
        ("and when?", "ellipsis"),
        ("Why?", "ellipsis"),
        ("For what purposes?", "ellipsis"),
        ("What about Japan?", "swap"),
        ("and what about the new library?", "swap"),
        ("And the bridge repair?", "swap"),
        ("And of Japan?", "swap"),
        # Questions that stand alone, also when they hold a pronoun or "that".
        ("Who is the Prime Minister of Japan?", None),
        ("india japan semiconductors", None),
        ("What did the leaders say they firmly reject in the disputed seas?", None),
        ("Have India and Japan stepped up talks between their armed forces?", None),
        ("What is the short name for India's electronics and IT ministry?", None),
        ("What did the deal that India signed say?", None),
        ("Is there a ferry across the harbour?", None),
        ("When did the two ministries sign the chip agreement?", None),
    ],
)
def test_kind_of_tells_follow_ups_from_questions_that_stand_alone(
    question: str, kind: str | None
) -> None:
    assert kind_of(question) == kind


def test_a_question_that_stands_alone_is_not_resolved_whatever_the_history() -> None:
    assert resolve("Who is the Prime Minister of Japan?", [BRIDGE]) is None


def test_without_history_nothing_is_resolved() -> None:
    assert resolve("How much did it cost?", []) is None


def test_a_pronoun_follow_up_carries_the_previous_subject_and_prefers_its_article() -> None:
    found = resolve("When did it reopen?", [Turn("Who repaired the Harbour Bridge?", "bridge")])
    assert found is not None
    assert found.kind == "pronoun"
    assert found.carried == ("repaired", "Harbour Bridge")
    assert found.query == "When did it reopen? repaired Harbour Bridge"
    assert found.within == "When did it reopen?"  # the article already says what "it" is
    assert found.interpreted_as == "When did it reopen? (about: repaired, Harbour Bridge)"
    assert found.prefer_doc == "bridge"


def test_an_ellipsis_is_asked_with_the_previous_words_also_within_the_article() -> None:
    found = resolve("and when?", [BRIDGE])
    assert found is not None
    assert found.kind == "ellipsis"
    assert found.query == found.within == "when? Harbour Bridge repair cost"
    assert found.interpreted_as == "and when? (about: Harbour Bridge repair cost)"


def test_words_the_follow_up_already_has_are_not_carried() -> None:
    found = resolve("How much did the repair cost?", [BRIDGE])
    assert found is None  # stands alone: it says what it is about
    found = resolve("And the repair, when did it end?", [BRIDGE])
    assert found is not None and "repair" not in " ".join(found.carried)


def test_a_swap_replaces_the_previous_topic_and_prefers_no_article() -> None:
    found = resolve("What about the new library?", [BRIDGE])
    assert found is not None
    assert found.kind == "swap"
    assert found.query == found.interpreted_as == "How much did the new library cost?"
    assert found.prefer_doc is None


def test_a_name_replaces_the_previous_name() -> None:
    found = resolve("and of Japan?", [Turn("Who is the Prime Minister of India?", "seed")])
    assert found is not None
    assert found.interpreted_as == "Who is the Prime Minister of Japan?"


def test_a_swap_keeps_the_last_word_when_it_is_not_a_verb() -> None:
    previous = Turn("What did India and Japan propose for their security advisers?", "seed")
    found = resolve("What about their military leaderships?", [previous])
    assert found is not None
    assert (
        found.interpreted_as == "What did India and Japan propose for their military leaderships?"
    )


def test_a_swap_with_nowhere_to_go_carries_the_previous_words() -> None:
    found = resolve("What about Japan?", [Turn("how long did the repair take", "bridge")])
    assert found is not None
    assert found.interpreted_as == "What about Japan? (about: repair take)"
    assert found.query == "Japan repair take"


def test_a_chain_is_resolved_turn_by_turn() -> None:
    turns = [Turn("How much did the Harbour Bridge repair cost?", "bridge")]
    turns.append(Turn("What about the new library?", "library"))
    assert standalone(turns) == "How much did the new library cost?"
    found = resolve("And when will it open?", turns)
    assert found is not None
    assert found.carried == ("new library cost",)
    assert found.prefer_doc == "library"  # the last answer's article


def test_only_the_last_turns_are_read() -> None:
    old = [Turn("Who repaired the Harbour Bridge?", "bridge")]
    filler = [Turn(f"question {n} about the weather", None) for n in range(MAX_TURNS)]
    found = resolve("why?", old + filler)
    assert found is not None and "Harbour" not in found.query


def test_the_last_turn_without_an_answer_prefers_no_article() -> None:
    found = resolve("How much did it cost?", [Turn(BRIDGE.question, None)])
    assert found is not None and found.prefer_doc is None


def test_phrases_are_runs_of_content_words() -> None:
    assert phrases("How much did the Harbour Bridge repair cost in 2024?") == [
        ["Harbour", "Bridge", "repair", "cost"],
        ["2024"],
    ]


def test_a_topic_phrase_runs_through_its_adjectives() -> None:
    previous = Turn("What will the old library on Kirke Street become?", "library")
    found = resolve("And the bus depot?", [previous])
    assert found is not None
    assert found.interpreted_as == "What will the bus depot on Kirke Street become?"
