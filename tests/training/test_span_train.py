from __future__ import annotations

import json
from pathlib import Path

import numpy as np

from qa.answer.spans import SpanScorer
from qa.evaluation.span_metrics import token_f1
from qa.training.span_train import RIGHT_F1, choose_threshold, run, span_questions

PEOPLE = ["Ada Lovelace", "Alan Turing", "Grace Hopper", "Edsger Dijkstra", "Barbara Liskov"]
PLACES = ["Lisbon", "Oslo", "Nairobi", "Quito", "Hanoi", "Perth"]


def squad_file(path: Path, articles: int) -> Path:
    """A small SQuAD-format file: each article says who founded what, where and when."""
    data = []
    for n in range(articles):
        person, place, year = PEOPLE[n % 5], PLACES[n % 6], str(1900 + 7 * n)
        company = f"Company{n}"
        context = (
            f"{company} sells tea. {company} was founded by {person} in {place} in {year}. "
            f"It employs {10 + n} people."
        )
        qas = [
            ("Who founded {c}?", person),
            ("When was {c} founded?", year),
            ("Where was {c} founded?", place),
            ("How many people does {c} employ?", f"{10 + n} people"),
            ("Why does {c} sell tea?", "tea"),
        ]
        data.append(
            {
                "title": company,
                "paragraphs": [
                    {
                        "context": context,
                        "qas": [
                            {
                                "id": f"{n}-{k}",
                                "question": q.format(c=company),
                                "answers": [{"text": a, "answer_start": context.index(a)}],
                            }
                            for k, (q, a) in enumerate(qas)
                        ],
                    }
                ],
            }
        )
    path.write_text(json.dumps({"version": "v2.0", "data": data}), encoding="utf-8")
    return path


def test_span_questions_pair_each_question_with_the_sentence_holding_its_answer(
    tmp_path: Path,
) -> None:
    questions, crossing = span_questions(squad_file(tmp_path / "s.json", 2), "tiny")
    assert crossing == 0 and len(questions) == 10
    for q in questions:
        assert any(a in q.sentence for a in q.answers)
        assert q.group in ("tiny:Company0", "tiny:Company1")


def test_training_writes_a_scorer_that_loads_and_finds_the_founder(tmp_path: Path) -> None:
    train = squad_file(tmp_path / "train.json", 12)
    out, report = tmp_path / "spans.json", tmp_path / "report.md"
    text = run([train], None, out, report, log=lambda _m: None)
    scorer = SpanScorer.load(out)
    question = "Who founded Company99?"
    got = scorer.best("Company99 was founded by Ada Lovelace in Lima in 1999.", question)
    assert got is not None and token_f1(got.text, ["Ada Lovelace"]) >= RIGHT_F1
    assert f"| {train.parent.name} (CV) |" in text and report.read_text(encoding="utf-8") == text
    assert json.loads(out.read_text(encoding="utf-8"))["meta"]["trained_on"] == [str(train)]


def test_threshold_is_the_lowest_that_keeps_mean_f1_at_the_target() -> None:
    probability = np.array([0.9, 0.8, 0.7, 0.6, 0.5])
    f1 = np.array([1.0, 1.0, 0.0, 1.0, 0.0])
    # given >= 0.6: mean F1 0.75; given >= 0.5: 0.6
    assert choose_threshold(probability, f1, target=0.7) == 0.6
    assert choose_threshold(probability, f1, target=0.6) == 0.5
    assert choose_threshold(probability, np.zeros(5), target=0.6) == 1.0
