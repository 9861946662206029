from __future__ import annotations

import json
import re
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from qa.answer.span_candidates import DATE, NAME, NUMBER, candidate_spans
from qa.answer.span_features import CALIBRATION_FEATURES, FEATURES, featurize
from qa.answer.span_tokens import wants_sentence
from qa.answer.spans import SpanScorer, best_span, default_scorer
from qa.evaluation.span_metrics import exact_match, normalize_answer, token_f1

TRICKY = [
    "“We will not back down,” said Prime Minister Narendra Modi in Tokyo on Friday.",
    "The U.S. and Ménières-sur-Mer signed the deal with Dr. Smith, e.g. on 3 Jan. 2024.",
    "São Paulo’s mayor said the café had 1,300 visitors 🙂 and earned $5 billion (3.5%).",
    "The Ministry of Economy, Trade and Industry said 20 per cent of the 1990s budget went.",
    "‘Quoted words’ and \"straight quotes\" and it's O'Brien's 46-year-old e\u0301lan.",
]


@pytest.mark.parametrize("sentence", TRICKY)
def test_candidates_have_exact_offsets_in_tricky_sentences(sentence: str) -> None:
    candidates = candidate_spans(sentence, "What happened?")
    assert candidates
    for c in candidates:
        assert sentence[c.start : c.end] == c.text
        assert c.text == c.text.strip() and c.text


@settings(max_examples=200, deadline=None)
@given(st.text(alphabet=st.characters(codec="utf-8"), max_size=120), st.text(max_size=40))
def test_candidates_have_exact_offsets_on_any_text(sentence: str, question: str) -> None:
    for c in candidate_spans(sentence, question):
        assert sentence[c.start : c.end] == c.text
        assert 0 <= c.start < c.end <= len(sentence)


@pytest.mark.parametrize(
    ("sentence", "expected", "kind"),
    [
        (TRICKY[3], "Ministry of Economy, Trade and Industry", NAME),
        ("Officials said on 12 March 2025 that it was over.", "12 March 2025", DATE),
        ("It opened in July 2023 in Osaka.", "July 2023", DATE),
        ("Prices rose in the 1990s.", "1990s", DATE),
        ("Temperatures hit 46 degrees Celsius at noon.", "46 degrees", NUMBER),
        ("France closed more than 1,300 schools.", "1,300 schools", NUMBER),
        ("The plan costs $5 billion in all.", "$5 billion", NUMBER),
        ("Growth was 3.5% last year.", "3.5%", NUMBER),
        ("Growth was 20 per cent last year.", "20 per cent", NUMBER),
        ("The Normans came in the 10th and 11th centuries.", "10th and 11th centuries", DATE),
    ],
)
def test_candidates_include_whole_names_dates_and_figures(
    sentence: str, expected: str, kind: str
) -> None:
    found = {c.text: c.kinds for c in candidate_spans(sentence, "Which one?")}
    assert expected in found
    assert kind in found[expected]


def test_candidates_drop_leading_articles_and_trailing_punctuation() -> None:
    texts = {c.text for c in candidate_spans("The Ministry of Defence spoke.", "Who spoke?")}
    assert "Ministry of Defence" in texts
    assert not any(t.startswith("The ") or t.endswith(".") for t in texts)


def test_candidates_without_the_question_words_at_their_ends_are_trimmed_again() -> None:
    sentence = "They revived the track 1.5 dialogue of think tanks."
    texts = {c.text for c in candidate_spans(sentence, "track 1.5 think tanks")}
    assert "dialogue" in texts
    assert not any(t.endswith(" of") for t in texts)


def test_candidates_whose_words_are_all_in_the_question_are_dropped() -> None:
    texts = {
        c.text
        for c in candidate_spans(
            "Shigeru Ishiba met Narendra Modi.", "Whom did Shigeru Ishiba meet?"
        )
    }
    assert "Shigeru Ishiba" not in texts
    assert "Narendra Modi" in texts


def test_every_candidate_has_one_value_per_named_feature() -> None:
    scored = featurize(TRICKY[0], "Who said it?")
    assert scored.x.shape == (len(scored.candidates), len(FEATURES))
    assert len(set(FEATURES)) == len(FEATURES)


WHO = "The summit was opened by Shigeru Ishiba in Tokyo on Friday."


def test_who_question_picks_a_name_not_in_the_question() -> None:
    got = default_scorer().best(WHO, "Who opened the summit?")
    assert got is not None
    assert "Ishiba" in got.text and "summit" not in got.text


def test_when_question_picks_a_date() -> None:
    sentence = "The two leaders signed the agreement in Tokyo on 12 March 2025."
    got = default_scorer().best(sentence, "When did the two leaders sign the agreement?")
    assert got is not None and got.text == "12 March 2025"


def test_how_many_question_picks_the_number() -> None:
    sentence = "France closed more than 1,300 schools after temperatures reached 46 degrees."
    got = default_scorer().best(sentence, "How many schools did France close?")
    assert got is not None and got.text.startswith("1,300")


@pytest.mark.parametrize(
    "question",
    [
        "Why did France close the schools?",
        "How did the leaders react to the plan?",
        "What happened in Tokyo on Friday?",
        "Explain the plan.",
        "Describe the summit.",
    ],
)
def test_questions_wanting_a_whole_sentence_get_no_span(question: str) -> None:
    assert wants_sentence(question)
    assert best_span(WHO, question) is None
    assert default_scorer().best(WHO, question) is None


@pytest.mark.parametrize("question", ["How many schools closed?", "How long did it last?"])
def test_how_much_and_how_long_questions_want_a_span(question: str) -> None:
    assert not wants_sentence(question)


def test_best_span_is_within_the_sentence_and_clears_the_threshold() -> None:
    got = best_span(WHO, "Who opened the summit?")
    assert got is not None
    assert WHO[got.start : got.end] == got.text
    assert got.probability >= default_scorer().threshold


def test_packaged_scorer_matches_the_code_features() -> None:
    data = json.loads((Path(__file__).parents[2] / "src/qa/answer/spans.json").read_text("utf-8"))
    assert data["features"] == list(FEATURES)
    assert data["calibration"]["features"] == list(CALIBRATION_FEATURES)
    scorer = SpanScorer.from_json(data, "spans.json")
    assert len(scorer.weights) == len(FEATURES)
    assert 0 < scorer.threshold < 1


def _packaged() -> dict[str, object]:
    return default_scorer().to_json()


def test_scorer_with_a_missing_feature_is_refused() -> None:
    data = _packaged()
    data["features"] = list(FEATURES[1:])
    data["weights"] = data["weights"][1:]  # type: ignore[index]
    with pytest.raises(ValueError, match=re.escape(f"missing ['{FEATURES[0]}']")):
        SpanScorer.from_json(data, "test")


def test_scorer_with_an_extra_feature_is_refused() -> None:
    data = _packaged()
    data["features"] = [*FEATURES, "made_up"]
    data["weights"] = [*data["weights"], 1.0]  # type: ignore[misc]
    with pytest.raises(ValueError, match=re.escape("extra ['made_up']")):
        SpanScorer.from_json(data, "test")


def test_scorer_with_too_few_weights_is_refused() -> None:
    data = _packaged()
    data["weights"] = data["weights"][:-1]  # type: ignore[index]
    with pytest.raises(ValueError, match="weights"):
        SpanScorer.from_json(data, "test")


def test_squad_normalisation_and_token_f1() -> None:
    assert normalize_answer("The  Quick, brown fox!") == "quick brown fox"
    assert exact_match("the Eiffel Tower.", ["Eiffel Tower"])
    assert token_f1("1,300 schools", ["1,300"]) == pytest.approx(2 / 3)
    assert token_f1("Paris", ["London", "Paris"]) == 1.0
    assert token_f1("a", ["the"]) == 1.0  # both normalise to nothing
    assert token_f1("Paris", []) == 0.0


def test_a_sentence_longer_than_the_limit_gets_no_candidates_and_no_span(monkeypatch) -> None:
    from qa.answer import span_candidates, span_features

    calls = []
    for module in (span_candidates, span_features):
        monkeypatch.setattr(module, "tokenize", lambda text: calls.append(text) or [])
    huge = "Shigeru Ishiba met Narendra Modi in Tokyo on Friday and " * 20_000  # ~1.1 MB
    assert len(huge) > span_candidates.MAX_SENTENCE_CHARS
    assert candidate_spans(huge, "Who met Ishiba?") == []
    assert default_scorer().best(huge, "Who met Ishiba?") is None
    assert best_span(huge, "Who met Ishiba?") is None
    assert featurize(huge, "Who met Ishiba?").x.shape == (0, len(FEATURES))
    assert huge not in calls  # never tokenised (only the question is)
    monkeypatch.undo()
    limit = WHO * (span_candidates.MAX_SENTENCE_CHARS // len(WHO))
    assert candidate_spans(limit, "Who opened it?")  # up to the limit, sentences are read
