"""Tiny SQuAD-format sets laid out as ../shared/datasets is, for the reader's trainer."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from qa.evaluation.corpora import load_pool
from qa.training.reader_data import SourcePool, read_plausible

TOPICS = ["harbour", "bridge", "library", "festival", "railway", "museum", "garden", "school"]


def paragraph(prefix: str, a: int, p: int, unanswerable: bool) -> dict[str, object]:
    topic = TOPICS[(a + p) % len(TOPICS)]
    answer = f"{prefix.capitalize()}{a}x{p}"
    context = (
        f"The {topic} of {prefix} town {a} was rebuilt in spring. "
        f"Its new keeper is called {answer}. "
        f"Visitors came from every village nearby."
    )
    qas: list[dict[str, object]] = [
        {
            "id": f"{prefix}-{a}-{p}",
            "question": f"Who keeps the {topic} of {prefix} town {a}?",
            "answers": [{"text": answer, "answer_start": context.index(answer)}],
        }
    ]
    if unanswerable:
        qas.append(
            {
                "id": f"{prefix}-{a}-{p}-x",
                "question": f"Who painted the {topic} of {prefix} town {a}?",
                "answers": [],
                "plausible_answers": [{"text": answer, "answer_start": context.index(answer)}],
                "is_impossible": True,
            }
        )
    return {"context": context, "qas": qas}


def squad_file(path: Path, prefix: str, articles: int, unanswerable: bool = False) -> Path:
    data = [
        {
            "title": f"{prefix} {a}",
            "paragraphs": [paragraph(prefix, a, p, unanswerable) for p in range(2)],
        }
        for a in range(articles)
    ]
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps({"data": data}), encoding="utf-8")
    return path


def make_datasets(tmp_path: Path) -> Path:
    """squad2-dev-half, xquad-en, squadshifts-amazon and -reddit, a few articles each."""
    root = tmp_path / "datasets"
    squad = squad_file(root / "squad2-dev-half" / "dev-v2.0.json", "wiki", 8, unanswerable=True)
    # XQuAD shares one article's paragraphs with squad2-dev-half, as the real sets do.
    xquad = json.loads(squad.read_text())["data"][:1]
    extra = json.loads(squad_file(tmp_path / "x.json", "xq", 3).read_text())["data"]
    (root / "xquad-en").mkdir(parents=True)
    (root / "xquad-en" / "xquad.en.json").write_text(json.dumps({"data": xquad + extra}))
    squad_file(root / "squadshifts-amazon" / "amazon_reviews_v1.0.json", "shop", 6)
    squad_file(root / "squadshifts-reddit" / "reddit_v1.0.json", "post", 4)
    return root


@pytest.fixture
def datasets(tmp_path: Path) -> Path:
    return make_datasets(tmp_path)


@pytest.fixture
def sources(datasets: Path) -> list[SourcePool]:
    squad = datasets / "squad2-dev-half" / "dev-v2.0.json"
    return [
        SourcePool(load_pool("squad", squad, domain="wikipedia"), read_plausible(squad)),
        SourcePool(
            load_pool("amazon", datasets / "squadshifts-amazon" / "amazon_reviews_v1.0.json"), {}
        ),
    ]
