"""SQuAD-format loading: one document per article, answer spans at the right offsets."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from qa.evaluation.datasets import DatasetError, load_squad, sample_evenly, squad_contexts

P1 = "Tokyo is the capital of Japan. It hosted the Olympics in 1964 and 2021."
P2 = "Mount Fuji is the highest mountain in Japan."
P3 = "Nairobi is the capital of Kenya."


def squad(tmp_path: Path, data: list[dict[str, Any]], name: str = "tiny.json") -> Path:
    path = tmp_path / name
    path.write_text(json.dumps({"version": "v2.0", "data": data}), encoding="utf-8")
    return path


def answer(context: str, text: str) -> dict[str, Any]:
    return {"text": text, "answer_start": context.index(text)}


TINY = [
    {
        "title": "Japan: facts",
        "paragraphs": [
            {
                "context": P1,
                "qas": [
                    {
                        "id": "a1",
                        "question": "What is the capital of Japan?",
                        # Two annotators, the same span twice and a longer one.
                        "answers": [
                            answer(P1, "Tokyo"),
                            answer(P1, "Tokyo"),
                            answer(P1, "Tokyo is"),
                        ],
                        "is_impossible": False,
                    },
                    {
                        "id": "u1",
                        "question": "What is the capital of Peru?",
                        "answers": [],
                        "plausible_answers": [answer(P1, "Tokyo")],
                        "is_impossible": True,
                    },
                ],
            },
            {
                "context": P2,
                "qas": [
                    {
                        "id": "a2",
                        "question": "What is the highest mountain in Japan?",
                        "answers": [answer(P2, "Mount Fuji")],
                    },
                    {"id": "u2", "question": "How tall is Mount Kenya?", "answers": []},
                ],
            },
        ],
    },
    {
        "title": "Japan: facts",  # the same title: a distinct doc_id
        "paragraphs": [
            {
                "context": P3,
                "qas": [
                    {
                        "id": "a3",
                        "question": "What is the capital of Kenya?",
                        "answers": [answer(P3, "Nairobi")],
                    }
                ],
            }
        ],
    },
]


def test_articles_are_paragraphs_joined_and_spans_point_at_the_answers(tmp_path: Path) -> None:
    texts, items = load_squad(squad(tmp_path, TINY))
    assert texts == {"Japan_facts": f"{P1}\n\n{P2}", "Japan_facts_2": P3}
    by_id = {i.id: i for i in items}
    assert [i.id for i in items] == ["a1", "u1", "a2", "u2", "a3"]
    a1, a2, a3 = by_id["a1"], by_id["a2"], by_id["a3"]
    text = texts["Japan_facts"]
    assert a1.doc_id == a2.doc_id == "Japan_facts" and a3.doc_id == "Japan_facts_2"
    assert [text[s:e] for s, e in a1.spans] == ["Tokyo", "Tokyo is"]
    assert a1.answers == ("Tokyo", "Tokyo is")
    # The second paragraph starts after the first and the blank line between them.
    assert a2.spans == ((len(P1) + 2, len(P1) + 2 + len("Mount Fuji")),)
    assert [text[s:e] for s, e in a2.spans] == ["Mount Fuji"]
    assert [texts["Japan_facts_2"][s:e] for s, e in a3.spans] == ["Nairobi"]


def test_region_is_the_questions_paragraph(tmp_path: Path) -> None:
    texts, items = load_squad(squad(tmp_path, TINY))
    for item in items:
        assert item.doc_id is not None and item.region is not None
        start, end = item.region
        assert texts[item.doc_id][start:end] in (P1, P2, P3)
        for s, e in item.spans:
            assert start <= s < e <= end
    by_id = {i.id: i for i in items}
    text = texts["Japan_facts"]
    assert text[slice(*by_id["u1"].region)] == P1  # type: ignore[misc]
    assert text[slice(*by_id["u2"].region)] == P2  # type: ignore[misc]


def test_unanswerable_questions_have_no_spans_and_are_tagged(tmp_path: Path) -> None:
    _, items = load_squad(squad(tmp_path, TINY))
    by_id = {i.id: i for i in items}
    # is_impossible, and (SQuAD 1 style) no answers at all.
    for item_id in ("u1", "u2"):
        item = by_id[item_id]
        assert not item.answerable and item.spans == () and item.tags == ("unanswerable",)
    assert by_id["u1"].answers == ()  # plausible answers are not answers
    assert all(by_id[i].answerable and by_id[i].tags == () for i in ("a1", "a2", "a3"))


def test_excluded_paragraphs_drop_their_questions_but_keep_the_article(tmp_path: Path) -> None:
    path = squad(tmp_path, TINY)
    other = squad(tmp_path, [{"title": "x", "paragraphs": [{"context": P2, "qas": []}]}], "o.json")
    assert squad_contexts(other) == frozenset({P2})
    texts, items = load_squad(path, exclude_contexts=squad_contexts(other))
    assert [i.id for i in items] == ["a1", "u1", "a3"]
    assert texts["Japan_facts"] == f"{P1}\n\n{P2}"  # offsets of the rest unchanged
    kept = {i.id: i for i in items}["a1"]
    assert [texts["Japan_facts"][s:e] for s, e in kept.spans] == ["Tokyo", "Tokyo is"]


@pytest.mark.parametrize("content", ["{not json", '{"no_data": []}', ""])
def test_a_file_that_is_not_squad_is_a_dataset_error(tmp_path: Path, content: str) -> None:
    path = tmp_path / "bad.json"
    path.write_text(content, encoding="utf-8")
    with pytest.raises(DatasetError, match="not a SQuAD-format file"):
        load_squad(path)
    with pytest.raises(DatasetError, match="not a SQuAD-format file"):
        load_squad(tmp_path / "missing.json")


def test_sample_evenly_spreads_over_the_list() -> None:
    assert sample_evenly(list(range(10)), 5) == [0, 2, 4, 6, 8]
    assert sample_evenly(list(range(10)), 3) == [0, 3, 6]
    assert sample_evenly(list(range(4)), None) == [0, 1, 2, 3]
    assert sample_evenly(list(range(4)), 9) == [0, 1, 2, 3]
