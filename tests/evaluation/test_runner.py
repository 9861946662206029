"""`qa eval`'s runs on fakes: a corpus written and indexed away from the serving index, every
item answered and scored, metrics per split, and a record of what produced them."""

from __future__ import annotations

import os
from pathlib import Path

from qa.core.settings import Settings
from qa.evaluation.datasets import EvalItem
from qa.evaluation.runner import open_eval_engine, run
from tests.conftest import ARTICLES, FakeEmbedder

TEXTS = {name.split(".")[0]: text for name, text in ARTICLES.items()}


def items() -> list[EvalItem]:
    quad = TEXTS["quad"]
    start = quad.index("Prime Minister")
    return [
        EvalItem(
            "q1",
            "Who welcomed the plan?",
            True,
            doc_id="quad",
            spans=((start, quad.index("plan.") + 5),),
            answers=("Shigeru Ishiba",),
            split="dev",
        ),
        EvalItem("q2", "What is the capital of Peru?", False, split="test"),
        EvalItem("q3", "Where will factories open?", True, doc_id="chips", split="dev"),
    ]


def test_a_run_scores_every_item_with_metrics_per_split(tmp_path: Path) -> None:
    settings = Settings(seeds_dir=tmp_path / "serving-seeds", index_dir=tmp_path / "serving")
    source = tmp_path / "gold.jsonl"
    source.write_text("{}\n")
    result = run(
        "fake",
        items(),
        TEXTS,
        settings,
        work_dir=tmp_path / "work",
        embedder=FakeEmbedder(),
        source=source,
    )
    assert [o.id for o in result.outcomes] == ["q1", "q2", "q3"]
    assert set(result.metrics) == {"all", "dev", "test"}
    counts = {k: (m["questions"], m["unanswerable"]) for k, m in result.metrics.items()}
    assert counts == {"all": (3, 1), "dev": (2, 0), "test": (1, 1)}
    meta = result.meta
    assert (meta["name"], meta["model"], meta["documents"]) == ("fake", "fake", 2)
    assert meta["weights_sha256"] == "f" * 64 and meta["sentences"] == 5
    assert meta["dataset"] == str(source) and len(meta["dataset_sha256"]) == 64
    assert {"seeds_dir", "index_dir", "host", "port"}.isdisjoint(meta["settings"])
    assert meta["settings"]["chunk_size"] == settings.chunk_size
    assert not (tmp_path / "serving").exists()  # never the serving index


def test_the_corpus_folder_is_made_to_hold_exactly_the_given_texts(tmp_path: Path) -> None:
    seeds = tmp_path / "seeds"
    seeds.mkdir()
    (seeds / "stale.txt").write_text("An article of an earlier run.")
    (seeds / "chips.txt").write_text("An older version of the chips article.")
    (seeds / "quad.txt").write_text(TEXTS["quad"])
    os.utime(seeds / "quad.txt", ns=(0, 0))
    engine = open_eval_engine(TEXTS, Settings(), tmp_path, embedder=FakeEmbedder())
    assert sorted(p.name for p in seeds.iterdir()) == ["chips.txt", "quad.txt"]
    assert (seeds / "chips.txt").read_text() == TEXTS["chips"]
    assert (seeds / "quad.txt").stat().st_mtime_ns == 0  # identical bytes are left alone
    assert sorted(engine.index.doc_pos) == ["chips", "quad"]
    assert engine.settings.index_dir == tmp_path / "index"
