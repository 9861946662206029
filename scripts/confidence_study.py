"""What limits abstention: the confidence model's form, or what it reads?

Asks every `qa eval --sizes` corpus its training-fold (0) and held-out (1) questions with the
packaged ranker, reader and confidence model (`qa.training.calibrate.collect_tops`, the same path
`qa train-confidence` fits on), then compares ways of scoring the best candidate on the
held-out questions:

- the packaged model with its threshold (what `qa eval --sizes` reports),
- the same logistic models refitted on today's vectors (each text embedded alone), threshold by
  the packaged rule (per set, `MAX_FALSE_ABSTENTION` of training answerable questions),
- P(answerable) alone, P(answerable) x P(right)^a for a < 1, one logistic model of P(correct),
  gradient-boosted trees for P(answerable) (scikit-learn), and the reader's own values alone,
  each compared at the same held-out false abstention (a threshold read off the held-out
  answerable questions: for comparing scorers only, never for choosing the shipped one).

    .venv/bin/python scripts/confidence_study.py [--datasets ../shared/datasets] [--fa 0.025]

The indexes are kept in .cache/confidence (shared with `qa train-confidence` and `qa eval
--sizes`); about 5 minutes on 2 cores once they are built.
"""

from __future__ import annotations

import argparse
from collections import defaultdict
from collections.abc import Callable
from pathlib import Path

import numpy as np
from numpy.typing import NDArray
from sklearn.ensemble import HistGradientBoostingClassifier
from sklearn.metrics import roc_auc_score

from qa.answer.ranker import Ranker
from qa.core.settings import Settings
from qa.embed.loader import ModelLoader
from qa.embed.model import CachingEmbedder
from qa.evaluation.corpora import ANSWERABLE, HELD_OUT_FOLD, TRAIN_FOLD, build_corpora
from qa.evaluation.runner import open_eval_engine, packaged_reader
from qa.training import calibrate
from qa.training.calibrate import MemoReader, TopTable, collect_tops
from qa.training.fitting import fit_logistic

ROOT = Path(__file__).resolve().parents[1]
BUCKETS = ("1", "4", "16", "48-64")
Scores = NDArray[np.float64]


def tables(datasets: Path, settings: Settings) -> tuple[TopTable, TopTable]:
    corpora = build_corpora(datasets, settings.seeds_dir, ROOT / "eval" / "gold.jsonl")
    ranker = Ranker.load(settings.ranker)
    embedder = CachingEmbedder(ModelLoader(settings).get())
    packaged = packaged_reader(settings)
    reader = MemoReader(packaged) if packaged is not None else None
    train, held = TopTable(), TopTable()
    for corpus in corpora:
        engine = open_eval_engine(
            corpus.texts,
            settings,
            ROOT / ".cache" / "confidence" / corpus.name,
            embedder=embedder,
            ranker=ranker,
            reader=reader,
        )
        train.extend(collect_tops(corpus, engine, lambda fold: fold == TRAIN_FOLD))
        held.extend(collect_tops(corpus, engine, lambda fold: fold == HELD_OUT_FOLD))
    return train, held


def sigmoid(z: Scores) -> Scores:
    return np.asarray(1.0 / (1.0 + np.exp(-np.clip(z, -50, 50))), dtype=np.float64)


def bucket(table: TopTable, i: int) -> str:
    if table.group[i] == "gold":
        return "gold"
    return {1: "1", 4: "4", 16: "16"}.get(table.size[i], "48-64")


def shares(table: TopTable, scores: Scores, threshold: float) -> str:
    """False abstention, off-topic and left-out abstention per size at `threshold`."""
    got: dict[str, dict[str, list[bool]]] = defaultdict(lambda: defaultdict(list))
    for i, kind in enumerate(table.kind):
        got[bucket(table, i)][kind].append(bool(scores[i] < threshold))
    cells = []
    for b in BUCKETS:
        row = got[b]
        cells.append(
            f"{b}: FA {np.mean(row[ANSWERABLE]):.3f} off {np.mean(row['off-topic']):.3f} "
            f"left {np.mean(row['left-out']):.3f}"
        )
    return " | ".join(cells)


def at_same_fa(table: TopTable, scores: Scores, fa: float) -> str:
    """Off-topic AUROC and abstention per size at a held-out false abstention of `fa`."""
    answerable = np.array([k == ANSWERABLE for k in table.kind])
    threshold = float(np.quantile(scores[answerable], fa))
    cells = []
    for b in BUCKETS:
        idx = [i for i in range(len(table.kind)) if bucket(table, i) == b]
        right = [scores[i] for i in idx if table.kind[i] == ANSWERABLE]
        off = [scores[i] for i in idx if table.kind[i] == "off-topic"]
        left = [scores[i] for i in idx if table.kind[i] == "left-out"]
        auc = roc_auc_score([1] * len(right) + [0] * len(off), right + off)
        cells.append(
            f"{b}: AUROC {auc:.3f} off {np.mean(np.array(off) < threshold):.3f} "
            f"left {np.mean(np.array(left) < threshold):.3f}"
        )
    return " | ".join(cells)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--datasets", type=Path, default=ROOT.parent / "shared" / "datasets")
    parser.add_argument("--fa", type=float, default=0.025, help="held-out false abstention")
    args = parser.parse_args()
    settings = Settings()
    train, held = tables(args.datasets, settings)
    packaged = Ranker.load(settings.ranker)
    assert packaged.calibrator is not None

    def probability(model: calibrate.ConfidenceModel, table: TopTable) -> Scores:
        return np.array([model.probability(v) for v in table.values])

    print(f"held-out: {len(held.kind)} questions; training: {len(train.kind)}")
    print(
        f"packaged, threshold {packaged.abstain_threshold}: "
        + shares(held, probability(packaged.calibrator, held), packaged.abstain_threshold)
    )
    refit = calibrate.fit_confidence(train)
    threshold = calibrate.choose_threshold(refit, train)  # the packaged rule, on training questions
    print(
        f"refitted, threshold {threshold:.4f}: " + shares(held, probability(refit, held), threshold)
    )
    parts = np.array([refit.parts(v) for v in held.values])
    answerable, right = parts[:, 0], parts[:, 1]
    scorers: dict[str, Callable[[], Scores]] = {
        "P(answerable) x P(right) (shown)": lambda: answerable * right,
        "P(answerable) x P(right)^0.5": lambda: answerable * right**0.5,
        "P(answerable) alone": lambda: answerable,
    }
    x = train.matrix(calibrate.ANSWERABLE_FEATURES)
    x_held = held.matrix(calibrate.ANSWERABLE_FEATURES)
    weights = calibrate._balanced_weights(train, np.ones(len(train.kind), dtype=bool))
    is_answerable = np.array([k == ANSWERABLE for k in train.kind])
    correct = is_answerable & np.array(train.correct)
    w, b = fit_logistic(x, correct, weights, c=calibrate.C)
    scorers["one logistic model of P(correct)"] = lambda: sigmoid(x_held @ w + b)
    trees = HistGradientBoostingClassifier(max_iter=200, learning_rate=0.05, random_state=0)
    trees.fit(x, is_answerable, sample_weight=weights)
    scorers["trees P(answerable) x P(right)"] = lambda: trees.predict_proba(x_held)[:, 1] * right
    names = ("reader", "reader_margin")
    w2, b2 = fit_logistic(train.matrix(names), is_answerable, weights, c=calibrate.C)
    scorers["the reader's values alone"] = lambda: sigmoid(held.matrix(names) @ w2 + b2)
    print(f"\nat a held-out false abstention of {args.fa} (per size: off-topic AUROC, shares):")
    for name, score in scorers.items():
        print(f"{name:34s} {at_same_fa(held, np.asarray(score(), dtype=np.float64), args.fa)}")


if __name__ == "__main__":
    main()
