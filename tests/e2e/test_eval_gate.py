"""The eval gate: it passes with the packaged ranker and names what breaks when retrieval or
ranking gets worse.

The gate runs the gold questions twice: on the seed article alone, and on the seed article with
16 XQuAD articles beside it (`gold+16`: 400+ sentences, far more than one search returns), so a
broken dense search, a missing BM25 or a ranker without one of its feature families shows up as
named gate failures. The 16 articles are committed (eval/distractors/), so all of this runs on a
clone of the repository alone; tests/e2e/test_shared_datasets.py checks them against XQuAD.
"""

from __future__ import annotations

import json
from collections.abc import Iterator, Sequence
from pathlib import Path

import numpy as np
import pytest
from typer.testing import CliRunner

from qa.answer.ranker import Ranker
from qa.answer.reader import ReadCandidate, Reading
from qa.cli import app
from qa.core.settings import Settings
from qa.evaluation.corpora import read_distractors
from qa.evaluation.datasets import load_gold
from qa.evaluation.gate import gate, load_thresholds
from qa.evaluation.runner import EvalRun, run
from tests.conftest import SEEDS

pytestmark = pytest.mark.e2e
ROOT = Path(__file__).resolve().parents[2]
DISTRACTOR_FILE = ROOT / "eval" / "distractors" / "xquad.jsonl"
THRESHOLDS = ROOT / "eval" / "thresholds.toml"
DISTRACTORS = 16


def run_eval(tmp_path: Path, *extra: str) -> tuple[int, str]:
    result = CliRunner().invoke(
        app,
        [
            "eval",
            "--seeds",
            str(SEEDS),
            "--gold",
            str(ROOT / "eval" / "gold.jsonl"),
            "--thresholds",
            str(THRESHOLDS),
            "--reports",
            str(tmp_path / "reports"),
            "--distractors-file",
            str(DISTRACTOR_FILE),
            "--followup-articles",
            str(ROOT / "eval" / "articles"),
            *extra,
        ],
    )
    return result.exit_code, result.output


def test_gate_passes_with_the_packaged_ranker(tmp_path: Path) -> None:
    code, output = run_eval(tmp_path)
    assert code == 0, output
    report = json.loads((tmp_path / "reports" / "gold.json").read_text())
    assert report["metrics"]["all"]["citation_validity"] == 1.0
    assert report["meta"]["weights_sha256"] and report["meta"]["git_commit"]
    latest = (tmp_path / "reports" / "latest.md").read_text()
    assert latest.startswith("# Eval report: gold") and "## Follow-up questions" in latest
    # The follow-up set is asked apart: the gold figures count the gold questions only.
    lines = [json.loads(line) for line in (ROOT / "eval" / "gold.jsonl").open()]
    alone = [line for line in lines if "followup" not in line.get("tags", ())]
    assert report["metrics"]["all"]["questions"] == len(alone) < len(lines)
    assert report["followup"]["metrics"]["followups"] >= 20


def test_gate_passes_on_the_seed_with_distractor_articles(tmp_path: Path) -> None:
    code, output = run_eval(tmp_path, "--distractors", str(DISTRACTORS))
    assert code == 0, output
    report = json.loads((tmp_path / "reports" / f"gold+{DISTRACTORS}.json").read_text())
    # The corpus is bigger than one search: retrieval really chooses the candidates.
    assert report["meta"]["sentences"] > 10 * Settings().candidates
    assert report["metrics"]["all"]["citation_validity"] == 1.0


def test_an_unknown_run_name_or_a_missing_thresholds_file_is_an_error(tmp_path: Path) -> None:
    code, output = run_eval(tmp_path, "--split", "dev")
    assert code == 1 and "gold-dev: no thresholds for this run" in output
    code, output = run_eval(tmp_path, "--thresholds", str(tmp_path / "missing.toml"))
    assert code == 2 and "no gate thresholds" in output


# ----------------------------------------------------------------- the gate bites: mutations


@pytest.fixture(scope="module")
def corpus() -> Iterator[tuple[dict[str, str], list[object]]]:
    from qa.corpus.documents import read_corpus

    documents, _ = read_corpus(SEEDS)
    texts = {d.doc_id: d.text for d in documents}
    items = load_gold(ROOT / "eval" / "gold.jsonl", texts)
    texts.update(read_distractors(DISTRACTOR_FILE, DISTRACTORS))
    yield texts, items  # type: ignore[misc]


def _gate(
    tmp_path: Path,
    corpus: tuple[dict[str, str], list[object]],
    settings: Settings | None = None,
    **kw: object,
) -> list[str]:
    texts, items = corpus
    result: EvalRun = run(
        f"gold+{DISTRACTORS}",
        items,  # type: ignore[arg-type]
        texts,
        settings or Settings(),
        work_dir=tmp_path / "work",
        **kw,  # type: ignore[arg-type]
    )
    return gate(result, load_thresholds(THRESHOLDS))


def _failed(failures: list[str], metric: str) -> bool:
    return any(f": {metric} = " in f for f in failures)


def test_gate_fails_when_dense_search_returns_random_rows(
    tmp_path: Path, corpus: tuple[dict[str, str], list[object]], monkeypatch: pytest.MonkeyPatch
) -> None:
    from qa.index.stores.faiss import FaissStore

    rng = np.random.default_rng(0)
    real = FaissStore.search

    def random_rows(self: FaissStore, queries: np.ndarray, k: int) -> tuple[object, object]:
        scores, rows = real(self, queries, k)
        return scores, rng.integers(0, len(self), size=rows.shape)

    monkeypatch.setattr(FaissStore, "search", random_rows)
    failures = _gate(tmp_path, corpus)
    assert _failed(failures, "dense_recall"), failures


def test_gate_fails_when_bm25_is_off(
    tmp_path: Path, corpus: tuple[dict[str, str], list[object]], monkeypatch: pytest.MonkeyPatch
) -> None:
    from qa.index.lexical import Lexical

    monkeypatch.setattr(
        Lexical, "scores", lambda self, tokens: np.zeros(self.num_docs, dtype=np.float32)
    )
    failures = _gate(tmp_path, corpus)
    assert _failed(failures, "bm25_recall"), failures


@pytest.mark.parametrize("family", ["coverage", "dense"])
def test_gate_fails_when_the_ranker_loses_a_feature_family(
    tmp_path: Path, corpus: tuple[dict[str, str], list[object]], family: str
) -> None:
    from qa.answer.features import FAMILIES

    good = Ranker.load()
    names = set(FAMILIES[family])
    weights = np.array(
        [
            0.0 if f.split(":")[-1] in names else w
            for f, w in zip(good.features, good.weights, strict=True)
        ]
    )
    bad = Ranker(good.features, weights, good.bias, f"without {family}", good.calibrator, good.meta)
    # The ranker's own contribution, with the reader off: the reader re-orders the ranker's top 8
    # and hides a weaker first stage on this corpus (with it, only confidence ECE moves, to 0.221
    # against 0.22). Measured without the reader: the full ranker answers 0.793 right (bound
    # 0.75); without coverage 0.724.
    failures = _gate(tmp_path, corpus, Settings(reader_candidates=0), ranker=bad)
    assert any(_failed(failures, m) for m in ("recall_at_1", "mrr", "answer_accuracy")), failures


def test_gate_fails_with_a_random_ranker_on_recall(tmp_path: Path) -> None:
    good = Ranker.load()
    rng = np.random.default_rng(0)
    bad = Ranker(
        good.features,
        rng.normal(size=len(good.weights)),
        0.0,
        "random",
        good.calibrator,
        good.meta,  # the packaged threshold: the gate must fail on recall, not on abstention
    )
    path = tmp_path / "random-ranker.json"
    path.write_text(json.dumps(bad.to_json()))
    code, output = run_eval(tmp_path, "--ranker", str(path))
    assert code == 1
    assert "GATE FAILED: gold/all: recall_at_1 = " in output


class ConstantReader:
    """A reader that reads nothing: every candidate scores the same, with no short answer."""

    def read(self, question: str, candidates: Sequence[tuple[str, str]]) -> Reading:
        flat = ReadCandidate(0.0, 0, 0, float("-inf"))
        return Reading(0.0, tuple(flat for _ in candidates))


def test_gate_fails_when_the_reader_is_replaced_by_a_constant(
    tmp_path: Path, corpus: tuple[dict[str, str], list[object]]
) -> None:
    failures = _gate(tmp_path, corpus, reader=ConstantReader())
    # The short answers are the reader's: without it none is marked. (On the seed article the
    # reader's re-ordering moves recall@1 only from 0.791 to 0.837 on gold+16 test, within a
    # bound's width, so the answer metrics alone would not show it.)
    assert _failed(failures, "span_coverage"), failures


def test_gate_fails_when_follow_ups_ignore_the_history(monkeypatch: pytest.MonkeyPatch) -> None:
    from qa.corpus.documents import read_corpus
    from qa.engine.engine import Engine
    from qa.evaluation.datasets import load_followups
    from qa.evaluation.runner import run_followups

    texts: dict[str, str] = {}
    for folder in (SEEDS, ROOT / "eval" / "articles"):
        texts.update({d.doc_id: d.text for d in read_corpus(folder)[0]})
    items = load_followups(ROOT / "eval" / "gold.jsonl", texts)
    ask = Engine.ask
    monkeypatch.setattr(
        Engine,
        "ask",
        lambda self, question, top_k=3, where=None, history=(): ask(self, question, top_k, where),
    )
    result = EvalRun("gold", [], {}, {}, followup=run_followups(items, texts, Settings()))
    bounds = {"gold": {"followup": load_thresholds(THRESHOLDS)["gold"]["followup"]}}
    failures = gate(result, bounds)
    assert _failed(failures, "article_at_1_with_history"), failures
    assert _failed(failures, "sentence_at_1_with_history"), failures
