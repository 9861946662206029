"""Sampled corpora: deterministic, split by article, with realistic unanswerable questions."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from qa.evaluation.corpora import (
    ANSWERABLE,
    LEFT_OUT,
    OFF_TOPIC,
    SQUAD_UNANSWERABLE,
    Pool,
    distractor_texts,
    load_pool,
    read_distractors,
    sample_all,
    sample_corpus,
    write_distractors,
)
from qa.evaluation.datasets import DatasetError


def _squad_file(path: Path, prefix: str, articles: int, unanswerable: bool = False) -> Path:
    data = []
    for a in range(articles):
        paragraphs = []
        for p in range(2):
            context = f"{prefix} article {a} paragraph {p} says the answer is A{a}P{p}. More."
            qas = [
                {
                    "id": f"{prefix}{a}-{p}",
                    "question": f"What does {prefix} article {a} paragraph {p} say?",
                    "answers": [{"text": f"A{a}P{p}", "answer_start": context.index(f"A{a}P")}],
                }
            ]
            if unanswerable:
                qas.append(
                    {
                        "id": f"{prefix}{a}-{p}-x",
                        "question": "Something it never says?",
                        "answers": [],
                        "is_impossible": True,
                    }
                )
            paragraphs.append({"context": context, "qas": qas})
        data.append({"title": f"{prefix} {a}", "paragraphs": paragraphs})
    out = path / f"{prefix}.json"
    out.write_text(json.dumps({"data": data}))
    return out


@pytest.fixture
def pools(tmp_path: Path) -> list[Pool]:
    return [
        load_pool("wiki", _squad_file(tmp_path, "wiki", 10, unanswerable=True), domain="w"),
        load_pool("wiki2", _squad_file(tmp_path, "wikitwo", 6), domain="w"),
        load_pool("reviews", _squad_file(tmp_path, "rev", 8), per_paragraph=True),
    ]


def test_a_corpus_asks_its_own_left_out_and_off_topic_questions(pools: list[Pool]) -> None:
    wiki, wiki2, reviews = pools
    corpus = sample_corpus(wiki, 4, 0, [wiki2, reviews], off_topic_share=1.0)
    assert len(corpus.texts) == 4
    kinds = {i.extra["kind"] for i in corpus.items}
    assert kinds == {ANSWERABLE, SQUAD_UNANSWERABLE, LEFT_OUT, OFF_TOPIC}
    for item in corpus.items:
        kind = item.extra["kind"]
        assert item.answerable == (kind == ANSWERABLE)
        if kind == ANSWERABLE:
            assert item.doc_id in corpus.texts
        if kind == LEFT_OUT:
            assert item.extra["pool"] == "wiki" and item.id.split("/")[1][:5] not in corpus.texts
        if kind == OFF_TOPIC:
            # Never from a pool of the same domain (wiki2 shares wiki's).
            assert item.extra["pool"] == "reviews"


def test_left_out_questions_come_from_articles_outside_the_corpus(pools: list[Pool]) -> None:
    wiki = pools[0]
    corpus = sample_corpus(wiki, 3, 1, pools[1:])
    inside_questions = {i.question for i in wiki.items if i.doc_id in corpus.texts}
    for item in corpus.items:
        if item.extra["kind"] == LEFT_OUT:
            assert item.question not in inside_questions


def test_sampling_is_deterministic_and_replicates_differ(pools: list[Pool]) -> None:
    wiki = pools[0]
    a = sample_corpus(wiki, 1, 0, pools[1:])
    b = sample_corpus(wiki, 1, 0, pools[1:])
    c = sample_corpus(wiki, 1, 1, pools[1:])
    assert a.texts == b.texts and [i.id for i in a.items] == [i.id for i in b.items]
    assert a.texts.keys() != c.texts.keys()


def test_every_question_has_the_fold_of_its_article(pools: list[Pool]) -> None:
    for corpus in sample_all(pools, {1: 2, 4: 1, 64: 1}):
        for item in corpus.items:
            owner = next(p for p in pools if p.name == item.extra["pool"])
            article = item.id.split("/", 1)[1]
            doc = next(i.doc_id for i in owner.items if i.id == article)
            assert item.extra["fold"] == owner.fold_of(doc or "")
    folds = {pools[0].fold_of(d) for d in pools[0].texts}
    assert folds == {0, 1}  # ten articles land in both folds


def test_sizes_above_the_pool_are_drawn_once_as_the_whole_pool(pools: list[Pool]) -> None:
    corpora = sample_all(pools[1:2], {1: 2, 16: 2, 64: 1})
    whole = [c for c in corpora if c.size == len(pools[1].texts)]
    assert len(whole) == 1


def test_per_paragraph_pools_make_each_post_an_article(pools: list[Pool]) -> None:
    reviews = pools[2]
    assert len(reviews.texts) == 16  # 8 titles x 2 paragraphs
    for item in reviews.items:
        text = reviews.texts[item.doc_id or ""]
        start, end = item.spans[0]
        assert text[start:end] == item.answers[0]


def test_a_distractor_file_round_trips_in_the_gate_order(tmp_path: Path) -> None:
    datasets = tmp_path / "datasets"
    (datasets / "xquad-en").mkdir(parents=True)
    _squad_file(tmp_path, "x", 6).rename(datasets / "xquad-en" / "xquad.en.json")
    path = tmp_path / "distractors.jsonl"
    write_distractors(datasets, 4, path)
    pool = load_pool("xquad", datasets / "xquad-en" / "xquad.en.json")
    four = read_distractors(path, 4)
    assert list(four.items()) == list(distractor_texts(pool, 4).items())
    # Nested: the first two lines are the distractors for two.
    assert list(read_distractors(path, 2)) == list(distractor_texts(pool, 2))


def test_asking_for_more_distractors_than_the_file_holds_is_a_clear_error(tmp_path: Path) -> None:
    path = tmp_path / "distractors.jsonl"
    path.write_text(json.dumps({"doc_id": "a", "text": "A."}) + "\n")
    with pytest.raises(DatasetError, match="holds 1 distractor articles, not 2"):
        read_distractors(path, 2)
    path.write_text("not json\n")
    with pytest.raises(DatasetError, match="not a distractor file"):
        read_distractors(path, 1)
    with pytest.raises(DatasetError, match="not a distractor file"):
        read_distractors(tmp_path / "missing.jsonl", 1)
