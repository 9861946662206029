"""The public SQuAD-format sets in ../shared/datasets (beside the clone, as in CI) load with the
counts their README gives, and every answer span points at its answer text.

The folder is not part of a user's clone: these tests are marked `datasets` and run by
`make test-datasets` (CI runs it after `make test`), where a missing folder fails (never skips).
QA_DATASETS_DIR points elsewhere (e.g. from a git worktree, whose parent folder has no shared/).
"""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from qa.evaluation.corpora import read_distractors, xquad_distractors
from qa.evaluation.datasets import load_squad, squad_contexts

pytestmark = pytest.mark.datasets

ROOT = Path(__file__).resolve().parents[2]
DATASETS = Path(os.environ.get("QA_DATASETS_DIR", ROOT / ".." / "shared" / "datasets"))
SQUAD = DATASETS / "squad2-dev-half" / "dev-v2.0.json"
XQUAD = DATASETS / "xquad-en" / "xquad.en.json"
DISTRACTORS = ROOT / "eval" / "distractors"


@pytest.fixture(scope="module")
def datasets() -> Path:
    if not (SQUAD.is_file() and XQUAD.is_file()):
        pytest.fail(
            f"the shared datasets are missing at {DATASETS.resolve()}: CI keeps them in shared/ "
            "beside the clone (or set QA_DATASETS_DIR)"
        )
    return DATASETS


def test_squad2_dev_half_has_the_counts_of_its_readme(datasets: Path) -> None:
    texts, items = load_squad(SQUAD)
    assert len(items) == 6_078
    assert sum(not i.answerable for i in items) == 3_168
    assert len(texts) == 16
    assert len(squad_contexts(SQUAD)) == 646
    for item in items:
        assert item.doc_id is not None and item.region is not None
        text = texts[item.doc_id]
        for start, end in item.spans:
            assert text[start:end] in item.answers
            assert item.region[0] <= start < end <= item.region[1]


def test_xquad_en_has_the_counts_of_its_readme(datasets: Path) -> None:
    texts, items = load_squad(XQUAD)
    assert len(items) == 1_190 and all(i.answerable for i in items)
    assert len(texts) == 48
    assert len(squad_contexts(XQUAD)) == 240
    for item in items:
        assert item.doc_id is not None
        assert all(texts[item.doc_id][s:e] in item.answers for s, e in item.spans)
    # 78 paragraphs are also in squad2-dev-half; excluding them drops exactly their questions.
    shared = squad_contexts(XQUAD) & squad_contexts(SQUAD)
    assert len(shared) == 78
    _, held_out = load_squad(XQUAD, exclude_contexts=shared)
    dropped = {i.id for i in items} - {i.id for i in held_out}
    assert len(held_out) < len(items) and len(dropped) == len(items) - len(held_out)
    assert all(texts[i.doc_id or ""][slice(*i.region or (0, 0))] not in shared for i in held_out)


def test_the_committed_distractors_are_the_gates_xquad_articles_verbatim(datasets: Path) -> None:
    committed = read_distractors(DISTRACTORS / "xquad.jsonl", 16)
    assert list(committed.items()) == list(xquad_distractors(datasets, 16).items())
    # The licence they are shared under travels with them.
    assert (DISTRACTORS / "LICENSE-CC-BY-SA-4.0.txt").read_bytes() == (
        datasets / "xquad-en" / "CC-BY-SA4.0.txt"
    ).read_bytes()
