"""When a cited span answers a question: gold evidence must be inside it, a SQuAD answer must
overlap it inside the question's paragraph."""

from __future__ import annotations

from qa.evaluation.datasets import EvalItem
from qa.evaluation.scoring import is_hit

GOLD = EvalItem(id="g", question="?", answerable=True, doc_id="a", spans=((10, 20),), evidence="x")
SQUAD = EvalItem(
    id="s", question="?", answerable=True, doc_id="a", spans=((10, 20),), region=(0, 50)
)


def test_gold_evidence_must_lie_inside_the_span() -> None:
    assert is_hit(GOLD, "a", (5, 25)) and is_hit(GOLD, "a", (10, 20))
    assert not is_hit(GOLD, "a", (12, 25))  # overlaps but cuts the evidence
    assert not is_hit(GOLD, "b", (5, 25))  # another article


def test_squad_answer_must_overlap_inside_the_paragraph() -> None:
    assert is_hit(SQUAD, "a", (15, 30))
    assert not is_hit(SQUAD, "a", (20, 30))  # touches, does not overlap
    assert not is_hit(SQUAD, "a", (15, 60))  # runs out of the paragraph


def test_nothing_answers_an_unanswerable_question() -> None:
    item = EvalItem(id="u", question="?", answerable=False, doc_id="a", spans=((10, 20),))
    assert not is_hit(item, "a", (0, 50))
