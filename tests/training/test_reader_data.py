"""The reader's training data: folds, positives, plausible answers, mined and listed negatives."""

from __future__ import annotations

import hashlib
from pathlib import Path

import numpy as np

from qa.evaluation.corpora import HELD_OUT_FOLD, TRAIN_FOLD
from qa.training.reader_data import NONE, ReaderData, SourcePool, build_records, mine_negatives
from qa.training.reader_lists import Mix, epoch_lists
from qa.training.reader_run import RunOptions, training_data
from qa.training.reader_train import TrainConfig

TRAIN = frozenset({TRAIN_FOLD})


def fake_embed(texts: list[str]) -> np.ndarray:
    """Unit bag-of-words vectors (64 hashed dimensions)."""
    out = np.zeros((len(texts), 64), dtype=np.float32)
    for row, text in enumerate(texts):
        for word in text.lower().split():
            out[row, hashlib.sha256(word.strip("?.").encode()).digest()[0] % 64] += 1
    return out / np.maximum(np.linalg.norm(out, axis=1, keepdims=True), 1e-9)


def train_data(sources: list[SourcePool]) -> ReaderData:
    data = build_records(sources, {"squad": TRAIN, "amazon": TRAIN})
    mine_negatives(data, fake_embed, k=4)
    return data


def held_out_sources(sources: list[SourcePool]) -> set[str]:
    return {
        f"{s.pool.name}/{d}"
        for s in sources
        for d in s.pool.texts
        if s.pool.fold_of(d) == HELD_OUT_FOLD
    }


def test_only_training_fold_articles_give_sentences_and_questions(
    sources: list[SourcePool],
) -> None:
    data = train_data(sources)
    held = held_out_sources(sources)
    assert held, "the fixture should put some articles in the held-out fold"
    assert data.records and data.sentences
    assert not {s.source for s in data.sentences} & held
    assert not {r.source for r in data.records} & held


def test_the_answer_sentence_is_the_positive_and_its_span_is_the_answer(
    sources: list[SourcePool],
) -> None:
    data = train_data(sources)
    answerable = [r for r in data.records if r.answerable]
    assert answerable
    for r in answerable:
        sentence = data.sentences[r.positives[0]].text
        assert r.positives[0] in r.paragraph
        assert r.answer is not None
        assert sentence[r.answer[0] : r.answer[1]] in r.answers
        assert data.sentences[r.positives[0]].previous  # the answer is the second sentence


def test_an_unanswerable_question_points_at_its_plausible_answer_sentence(
    sources: list[SourcePool],
) -> None:
    data = train_data(sources)
    unanswerable = [r for r in data.records if not r.answerable]
    assert unanswerable
    for r in unanswerable:
        assert r.plausible is not None and r.plausible in r.paragraph
        assert "keeper" in data.sentences[r.plausible].text


def test_mined_negatives_leave_the_paragraph_and_never_hold_the_answer(
    sources: list[SourcePool],
) -> None:
    data = train_data(sources)
    for r in data.records:
        assert r.hard and r.foreign
        assert not set(r.hard) & set(r.paragraph)
        assert all(data.sentences[i].source != r.source for i in r.foreign)
        for i in r.hard:
            assert not any(a.lower() in data.sentences[i].text.lower() for a in r.answers)


def test_epoch_lists_are_deterministic_and_well_formed(sources: list[SourcePool]) -> None:
    data = train_data(sources)
    mix = Mix(max_candidates=3)
    first = epoch_lists(data, 7, 0, mix)
    assert first == epoch_lists(data, 7, 0, mix)
    assert first != epoch_lists(data, 7, 1, mix)
    kinds = {item.kind for item in first}
    assert kinds == {"answerable", "other", "unanswerable", "off-topic"}
    for item in first:
        assert 1 <= len(item.candidates) <= 3
        if item.kind == "answerable":
            assert item.weight == 1.0
            right = item.candidates[item.target]
            assert right.answer is not None
            assert right.sentence[right.answer[0] : right.answer[1]].startswith("Wiki") or (
                right.sentence[right.answer[0] : right.answer[1]].startswith("Shop")
            )
            assert all(c.answer is None for k, c in enumerate(item.candidates) if k != item.target)
        else:
            assert item.target == NONE
            assert all(c.answer is None for c in item.candidates)
    sizes = {len(item.candidates) for item in first}
    assert sizes == {1, 2, 3}


def test_off_topic_questions_come_from_another_domain(sources: list[SourcePool]) -> None:
    data = train_data(sources)
    for item in epoch_lists(data, 0, 0):
        if item.kind == "off-topic":
            asked, read = item.source.split("/")[0], item.candidates[0].source.split("/")[0]
            assert {asked, read} == {"squad", "amazon"}


def test_no_held_out_article_reaches_a_training_list(
    datasets: Path, sources: list[SourcePool]
) -> None:
    options = RunOptions(
        datasets, Path("unused"), Path("unused.onnx"), Path("unused.md"), TrainConfig()
    )
    data, held = training_data(options, fake_embed)
    forbidden = held_out_sources(sources) | {r.source for r in held.records}
    assert {r.pool for r in held.records} == {"squad", "xquad"}
    seen = set()
    for epoch in range(3):
        for item in epoch_lists(data, 0, epoch):
            seen.add(item.source)
            seen.update(c.source for c in item.candidates)
    assert seen and not seen & forbidden
    # XQuAD's held-out part leaves out the paragraphs it shares with squad2-dev-half.
    xquad_questions = {r.question for r in held.records if r.pool == "xquad"}
    assert xquad_questions and not any("wiki" in q for q in xquad_questions)
