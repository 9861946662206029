"""IDF-weighted coverage of a question's terms (bm25s underneath, no model)."""

from __future__ import annotations

import math

from qa.index.lexical import Lexical, tokenize


def test_coverage_weighs_terms_by_idf_and_counts_unknown_terms_against_every_text() -> None:
    texts = ["Tokyo hosted the summit.", "The summit was in Tokyo.", "Chips are made in Gujarat."]
    lexical = Lexical.build(texts)
    question = tokenize(["Which city hosted the summit on Mars?"])[0]
    idf = {t: lexical.idf(t) for t in set(question)}
    found = frozenset(tokenize([texts[0]])[0])
    expected = sum(w for t, w in idf.items() if t in found) / sum(idf.values())
    assert math.isclose(lexical.coverage(question, found), expected)
    # "mars" and "city" are in no text: even the best sentence covers less than all of it.
    assert 0 < lexical.coverage(question, found) < 1
    assert lexical.coverage(question, frozenset()) == 0.0


def test_coverage_of_one_question_equals_coverage_text_by_text() -> None:
    texts = ["Prime Minister Shigeru Ishiba welcomed the plan.", "The plan was welcomed."]
    lexical = Lexical.build(texts)
    question = tokenize(["Who welcomed the plan of the prime minister?"])[0]
    cover = lexical.coverage_of(question)
    for text in [*texts, "nothing in common", ""]:
        tokens = frozenset(tokenize([text])[0])
        assert cover(tokens) == lexical.coverage(question, tokens)
