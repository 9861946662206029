"""The follow-up set: is "how much did it cost?" answered about the repair asked about before?

Each follow-up is asked twice: with the history the chat page would send (the questions before
it in its chain, each with the doc_id its own answer cited, null when it abstained) and alone.
A follow-up is right when the best candidate (`citations[0]`, whether or not the answer was
withheld) is in the expected article (article@1) and holds the expected evidence (sentence@1).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

from qa.answer.answerer import Answer
from qa.answer.followup import MAX_TURNS, Turn
from qa.engine.engine import Engine
from qa.evaluation.datasets import EvalItem
from qa.evaluation.scoring import is_hit


@dataclass(frozen=True)
class Asked:
    """What one question got: its best citation's article, and whether it is right."""

    doc_id: str | None
    article_right: bool
    sentence_right: bool
    answer_right: bool  # answered (not withheld), and right
    answer: str | None
    interpreted_as: str | None = None

    @classmethod
    def of(cls, item: EvalItem, answer: Answer) -> Asked:
        lead = answer.citations[0] if answer.citations else None
        sentence = lead is not None and is_hit(item, lead.doc_id, (lead.start, lead.end))
        return cls(
            doc_id=lead.doc_id if lead else None,
            article_right=lead is not None and lead.doc_id == item.doc_id,
            sentence_right=sentence,
            answer_right=sentence and answer.text is not None,
            answer=answer.text,
            interpreted_as=answer.interpreted_as,
        )


@dataclass(frozen=True)
class FollowupOutcome:
    """A follow-up asked with its history and alone (`previous` is None for first questions)."""

    id: str
    question: str
    previous: str | None
    expected: str | None
    with_history: Asked
    alone: Asked
    split: str = "all"


@dataclass
class FollowupRun:
    outcomes: list[FollowupOutcome]
    metrics: dict[str, float]  # over every follow-up
    documents: int
    splits: dict[str, dict[str, float]] = field(default_factory=dict)  # per split (dev, test)


def history_for(
    item: EvalItem, by_id: dict[str, EvalItem], cited: dict[str, str | None]
) -> list[Turn]:
    """The turns before `item` (oldest first, at most MAX_TURNS), each with the doc_id its
    answer cited, as the chat page sends them."""
    turns: list[Turn] = []
    previous = item.extra.get("previous")
    while isinstance(previous, str) and len(turns) < MAX_TURNS:
        turns.insert(0, Turn(by_id[previous].question, cited.get(previous)))
        previous = by_id[previous].extra.get("previous")
    return turns


def ask_all(items: Sequence[EvalItem], engine: Engine, top_k: int = 5) -> list[FollowupOutcome]:
    """Ask every question in file order: first questions alone, follow-ups with and without
    the history of their chain."""
    by_id = {i.id: i for i in items}
    cited: dict[str, str | None] = {}
    outcomes = []
    for item in items:
        alone = Asked.of(item, engine.ask(item.question, top_k))
        previous = item.extra.get("previous")
        history = history_for(item, by_id, cited)
        answer = engine.ask(item.question, top_k, history=history) if history else None
        with_history = Asked.of(item, answer) if answer is not None else alone
        cited[item.id] = with_history.doc_id if with_history.answer is not None else None
        outcomes.append(
            FollowupOutcome(
                item.id,
                item.question,
                previous if isinstance(previous, str) else None,
                item.evidence,
                with_history,
                alone,
                item.split,
            )
        )
    return outcomes


def summarize_followups(outcomes: Sequence[FollowupOutcome]) -> dict[str, float]:
    """Shares over the follow-ups (and the first questions, for context)."""
    follow = [o for o in outcomes if o.previous is not None]
    first = [o for o in outcomes if o.previous is None]

    def share(values: Sequence[bool]) -> float:
        return sum(values) / len(values) if values else float("nan")

    return {
        "followups": len(follow),
        "first_questions": len(first),
        "first_sentence_at_1": share([o.alone.sentence_right for o in first]),
        "article_at_1_with_history": share([o.with_history.article_right for o in follow]),
        "article_at_1_alone": share([o.alone.article_right for o in follow]),
        "sentence_at_1_with_history": share([o.with_history.sentence_right for o in follow]),
        "sentence_at_1_alone": share([o.alone.sentence_right for o in follow]),
        "answer_accuracy_with_history": share([o.with_history.answer_right for o in follow]),
        "answer_accuracy_alone": share([o.alone.answer_right for o in follow]),
        "read_as_followup": share([o.with_history.interpreted_as is not None for o in follow]),
    }
