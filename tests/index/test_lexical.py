"""IDF-weighted coverage of a question's terms (bm25s underneath, no model)."""

from __future__ import annotations

import json
import math
from pathlib import Path

from hypothesis import given, settings
from hypothesis import strategies as st

from qa.corpus.documents import read_corpus
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


def _bm25s_tokens(texts: list[str]) -> list[list[str]]:
    import bm25s

    from qa.index.lexical import _stemmer

    tokens = bm25s.tokenize(
        texts, stopwords="en", stemmer=_stemmer(), return_ids=False, show_progress=False
    )
    return [list(t) for t in tokens]


def test_tokens_equal_bm25s_tokenize_on_the_seed_article_and_gold_questions() -> None:
    root = Path(__file__).resolve().parents[2]
    documents, _ = read_corpus(root / "seeds")
    texts = [d.text[s.start : s.end] for d in documents for s in d.sentences]
    gold = (root / "eval" / "gold.jsonl").read_text(encoding="utf-8").splitlines()
    texts += [json.loads(line)["question"] for line in gold]
    assert len(texts) > 100
    assert tokenize(texts) == _bm25s_tokens(texts)
    assert [tokenize([t])[0] for t in texts] == _bm25s_tokens(texts)  # one text at a time too


@settings(max_examples=300, deadline=None)
@given(st.lists(st.text(alphabet=st.characters(codec="utf-8"), max_size=60), max_size=4))
def test_tokens_equal_bm25s_tokenize_on_any_text(texts: list[str]) -> None:
    assert tokenize(texts) == _bm25s_tokens(texts)


def test_stop_words_go_and_words_are_stemmed() -> None:
    assert tokenize(["The ministries were signing THE agreements", ""]) == [
        ["ministri", "were", "sign", "agreement"],  # "the" is a stop word, "were" is not
        [],
    ]
