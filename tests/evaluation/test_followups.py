"""The follow-up set: its lines, the history each follow-up is asked with, and its figures."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from qa.answer.answerer import Answer, Citation
from qa.answer.followup import Turn
from qa.evaluation.datasets import DatasetError, EvalItem, load_followups, load_gold
from qa.evaluation.followups import FollowupRun, ask_all, history_for, summarize_followups
from qa.evaluation.reports import followup_table

TEXTS = {
    "bridge": "The bridge reopened on Monday. The repair cost 14 million euros.",
    "library": "The library will cost 22 million euros.",
}
LINES = [
    {"id": "g1", "question": "Who reopened?", "answerable": False},
    {"id": "f1", "question": "When did the bridge reopen?", "answerable": True,
     "doc_id": "bridge", "evidence": "reopened on Monday", "tags": ["followup"]},
    {"id": "f2", "question": "How much did it cost?", "answerable": True, "doc_id": "bridge",
     "evidence": "The repair cost 14 million euros.", "tags": ["followup"], "previous": "f1"},
    {"id": "f3", "question": "And the library?", "answerable": True, "doc_id": "library",
     "evidence": "cost 22 million", "tags": ["followup"], "previous": "f2"},
]  # fmt: skip


def gold(tmp_path: Path, lines: list[dict[str, object]] = LINES) -> Path:
    path = tmp_path / "gold.jsonl"
    path.write_text("\n".join(json.dumps(line) for line in lines) + "\n", encoding="utf-8")
    return path


def test_follow_up_lines_are_left_out_of_the_gold_set_and_loaded_apart(tmp_path: Path) -> None:
    path = gold(tmp_path)
    # The gold run's corpus need not hold the follow-up set's articles.
    assert [i.id for i in load_gold(path, {})] == ["g1"]
    items = load_followups(path, TEXTS)
    assert [i.id for i in items] == ["f1", "f2", "f3"]
    assert items[1].extra == {"previous": "f1"} and items[0].extra == {}


def test_previous_must_name_an_earlier_follow_up_line(tmp_path: Path) -> None:
    lines = [LINES[0], LINES[2], LINES[1]]
    with pytest.raises(DatasetError, match="f2: previous 'f1' is not an earlier followup line"):
        load_followups(gold(tmp_path, lines), TEXTS)
    with pytest.raises(DatasetError, match="duplicate id"):
        load_gold(gold(tmp_path, [*LINES, LINES[1]]), {})


def test_the_history_is_the_chain_of_previous_questions_with_their_cited_articles(
    tmp_path: Path,
) -> None:
    items = {i.id: i for i in load_followups(gold(tmp_path), TEXTS)}
    cited = {"f1": "bridge", "f2": None}
    assert history_for(items["f3"], items, cited) == [
        Turn("When did the bridge reopen?", "bridge"),
        Turn("How much did it cost?", None),
    ]
    assert history_for(items["f1"], items, cited) == []


class ScriptedEngine:
    """Answers from the bridge article when given a history, else from the library."""

    def __init__(self) -> None:
        self.histories: list[list[Turn]] = []

    def ask(self, question: str, top_k: int = 3, history: list[Turn] | None = None) -> Answer:
        self.histories.append(list(history or []))
        doc = "bridge" if history else "library"
        text = TEXTS[doc]
        start = text.index("The repair") if doc == "bridge" else 0
        end = len(text)
        cite = Citation(doc, doc, 0, start, end, text[start:end], 1.0)
        shown = "read as" if history else None
        return Answer(question, cite.text, 0.9, [cite], 1.0, interpreted_as=shown)


def test_each_follow_up_is_asked_with_its_history_and_alone(tmp_path: Path) -> None:
    items = load_followups(gold(tmp_path), TEXTS)
    engine = ScriptedEngine()
    outcomes = ask_all(items, engine)  # type: ignore[arg-type]
    # f1 alone; f2 alone, then after f1 (cited: library, as asked alone); f3 alone, then after both.
    assert engine.histories[2] == [Turn("When did the bridge reopen?", "library")]
    assert engine.histories[4] == [
        Turn("When did the bridge reopen?", "library"),
        Turn("How much did it cost?", "bridge"),
    ]
    f2 = outcomes[1]
    assert f2.with_history.article_right and f2.with_history.sentence_right
    assert not f2.alone.article_right and f2.with_history.interpreted_as == "read as"
    metrics = summarize_followups(outcomes)
    assert metrics["followups"] == 2 and metrics["first_questions"] == 1
    assert metrics["article_at_1_with_history"] == 0.5  # f3 expects the library
    assert metrics["article_at_1_alone"] == 0.5
    assert metrics["sentence_at_1_with_history"] == 0.5
    assert metrics["read_as_followup"] == 1.0
    dev = summarize_followups(outcomes[:2])
    table = followup_table(FollowupRun(outcomes, metrics, 2, {"dev": dev}))
    assert "| follow-ups right first, with history / alone | all (2) | dev (1) |" in table
    assert "| article@1 | 0.500 / 0.500 | 1.000 / 0.000 |" in table


def test_the_committed_follow_up_set_loads_over_the_seed_and_eval_articles() -> None:
    from qa.corpus.documents import read_corpus

    root = Path(__file__).resolve().parents[2]
    texts: dict[str, str] = {}
    for folder in (root / "seeds", root / "eval" / "articles"):
        documents, problems = read_corpus(folder)
        assert problems == []
        texts.update({d.doc_id: d.text for d in documents})
    items = load_followups(root / "eval" / "gold.jsonl", texts)
    follow = [i for i in items if "previous" in i.extra]
    assert len(follow) >= 20
    assert len({i.doc_id for i in follow}) == len(texts) == 5  # the seed and four articles
    assert all(isinstance(i, EvalItem) and i.spans for i in items)
