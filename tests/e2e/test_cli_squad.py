"""`qa eval --squad` and `qa train-ranker` on tiny SQuAD-format files, with the real model."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from typer.testing import CliRunner

from qa.answer.ranker import Ranker
from qa.cli import app
from tests.conftest import ARTICLES

ROOT = Path(__file__).resolve().parents[2]

pytestmark = pytest.mark.e2e

# Six short articles of two paragraphs: enough whole articles for five cross-validation folds.
TOPICS = {
    "Volcanoes": (
        "Mount Etna is an active volcano on the east coast of Sicily. It erupted in 2021.",
        "Lava from Etna has buried several villages over the centuries. Farmers still grow "
        "grapes on its slopes.",
    ),
    "Bridges": (
        "The Golden Gate Bridge opened to traffic in 1937. It spans the strait at San Francisco.",
        "Its towers are painted international orange. The colour was chosen to stand out in fog.",
    ),
    "Coffee": (
        "Coffee plants were first cultivated in Yemen. Traders carried the beans to Europe.",
        "Brazil is now the largest producer of coffee. Vietnam comes second.",
    ),
    "Chess": (
        "The modern rules of chess took shape in Spain around 1475. The queen became powerful.",
        "Magnus Carlsen held the world title from 2013 to 2023. He is from Norway.",
    ),
    "Rivers": (
        "The Nile flows north through eleven countries. It empties into the Mediterranean Sea.",
        "The Amazon carries more water than any other river. It crosses Brazil.",
    ),
    "Telescopes": (
        "The Hubble Space Telescope was launched in 1990. Astronauts repaired it five times.",
        "The James Webb telescope observes in infrared light. It orbits far beyond the Moon.",
    ),
}
QUESTIONS = {
    "Volcanoes": [
        ("Where is Mount Etna?", "on the east coast of Sicily", 0),
        ("What do farmers grow on the slopes of Etna?", "grapes", 1),
    ],
    "Bridges": [
        ("When did the Golden Gate Bridge open to traffic?", "1937", 0),
        ("What colour are the towers of the bridge painted?", "international orange", 1),
    ],
    "Coffee": [
        ("Where were coffee plants first cultivated?", "Yemen", 0),
        ("Which country is the largest producer of coffee?", "Brazil", 1),
    ],
    "Chess": [
        ("Where did the modern rules of chess take shape?", "Spain", 0),
        ("Which country is Magnus Carlsen from?", "Norway", 1),
    ],
    "Rivers": [
        ("Into which sea does the Nile empty?", "the Mediterranean Sea", 0),
        ("Which river carries more water than any other?", "The Amazon", 1),
    ],
    "Telescopes": [
        ("When was the Hubble Space Telescope launched?", "1990", 0),
        ("In what light does the James Webb telescope observe?", "infrared", 1),
    ],
}
UNANSWERABLE = "How do I bake sourdough bread at home?"


def tiny_squad(path: Path, topics: list[str]) -> Path:
    data: list[dict[str, Any]] = []
    for topic in topics:
        paragraphs: list[dict[str, Any]] = [{"context": c, "qas": []} for c in TOPICS[topic]]
        for n, (question, answer, which) in enumerate(QUESTIONS[topic]):
            context = TOPICS[topic][which]
            paragraphs[which]["qas"].append(
                {
                    "id": f"{topic}-{n}",
                    "question": question,
                    "answers": [{"text": answer, "answer_start": context.index(answer)}],
                    "is_impossible": False,
                }
            )
        paragraphs[0]["qas"].append(
            {"id": f"{topic}-u", "question": UNANSWERABLE, "answers": [], "is_impossible": True}
        )
        data.append({"title": topic, "paragraphs": paragraphs})
    path.write_text(json.dumps({"version": "v2.0", "data": data}), encoding="utf-8")
    return path


def test_eval_on_a_squad_file_scores_every_question_and_writes_reports(tmp_path: Path) -> None:
    squad = tiny_squad(tmp_path / "tiny.json", ["Volcanoes", "Bridges"])
    reports = tmp_path / "reports"
    args = ["eval", "--squad", str(squad), "--no-gate", "--reports", str(reports)]
    result = CliRunner().invoke(app, [*args, "--cache", str(tmp_path / "cache")])
    assert result.exit_code == 0, result.output
    assert "evaluating 6 questions over 2 documents (tiny)" in result.stderr
    report = json.loads((reports / "tiny.json").read_text(encoding="utf-8"))
    assert (reports / "tiny.md").exists() and not (reports / "latest.md").exists()
    metrics = report["metrics"]["all"]
    assert (metrics["questions"], metrics["answerable"], metrics["unanswerable"]) == (6, 4, 2)
    assert metrics["citation_validity"] == 1.0
    outcomes = {o["id"]: o for o in report["outcomes"]}
    assert set(outcomes) == {f"{t}-{n}" for t in ("Volcanoes", "Bridges") for n in (0, 1, "u")}
    # Every answerable question copies its sentence's words: its sentence ranks first.
    assert [outcomes[f"{t}-{n}"]["rank"] for t in ("Volcanoes", "Bridges") for n in (0, 1)] == [
        1,
        1,
        1,
        1,
    ]
    assert not outcomes["Bridges-u"]["answerable"]
    # --limit samples evenly and names the run after it.
    result = CliRunner().invoke(app, [*args, "--limit", "2", "--cache", str(tmp_path / "cache")])
    assert result.exit_code == 0, result.output
    limited = json.loads((reports / "tiny-limit2.json").read_text(encoding="utf-8"))
    assert limited["metrics"]["all"]["questions"] == 2


def test_a_squad_file_without_bounds_is_reported_not_gated_unless_gate_is_asked(
    tmp_path: Path,
) -> None:
    squad = tiny_squad(tmp_path / "fresh.json", ["Volcanoes"])
    args = ["eval", "--squad", str(squad), "--reports", str(tmp_path / "reports")]
    args += ["--thresholds", str(ROOT / "eval" / "thresholds.toml")]
    args += ["--cache", str(tmp_path / "cache")]
    result = CliRunner().invoke(app, args)
    assert result.exit_code == 0, result.output
    assert "not gated: " in result.stderr and "GATE FAILED" not in result.output
    assert (tmp_path / "reports" / "fresh.json").exists()
    result = CliRunner().invoke(app, [*args, "--gate"])
    assert result.exit_code == 1
    assert "GATE FAILED: fresh: no thresholds for this run" in result.output


def test_eval_of_a_file_that_is_not_squad_exits_2(tmp_path: Path) -> None:
    bad = tmp_path / "bad.json"
    bad.write_text("{not json", encoding="utf-8")
    result = CliRunner().invoke(app, ["eval", "--squad", str(bad), "--no-gate"])
    assert result.exit_code == 2
    assert "not a SQuAD-format file" in result.stderr


def test_train_ranker_on_tiny_inputs_writes_a_loadable_ranker_and_a_report(
    tmp_path: Path,
) -> None:
    squad = tiny_squad(tmp_path / "train.json", list(TOPICS))
    seeds = tmp_path / "seeds"
    seeds.mkdir()
    for name, text in ARTICLES.items():
        (seeds / name).write_text(text, encoding="utf-8")
    gold = tmp_path / "gold.jsonl"
    lines = [
        {"id": "d1", "question": "Who welcomed the plan?", "answerable": True, "split": "dev",
         "doc_id": "quad", "evidence": "Prime Minister Shigeru Ishiba welcomed the plan."},
        {"id": "d2", "question": "Where will chip factories open?", "answerable": True,
         "split": "dev", "doc_id": "chips", "evidence": "Semiconductor factories will open"},
        {"id": "d3", "question": "What is the capital of France?", "answerable": False,
         "split": "dev", "tags": ["off-topic"]},
        {"id": "t1", "question": "How much is the investment worth?", "answerable": True,
         "split": "test", "doc_id": "chips", "evidence": "worth 10 billion dollars"},
    ]  # fmt: skip
    gold.write_text("".join(json.dumps(line) + "\n" for line in lines), encoding="utf-8")
    out, report = tmp_path / "ranker.json", tmp_path / "cv.md"
    result = CliRunner().invoke(
        app,
        [
            "train-ranker",
            "--squad",
            str(squad),
            "--gold",
            str(gold),
            "--seeds",
            str(seeds),
            "--out",
            str(out),
            "--cache",
            str(tmp_path / "cache"),
            "--report",
            str(report),
        ],
    )
    assert result.exit_code == 0, result.output
    assert "collecting candidates for 18 SQuAD questions" in result.stderr
    ranker = Ranker.load(out)
    assert np.isfinite(ranker.weights).all() and ranker.weights.any()
    assert ranker.meta is not None
    assert ranker.meta["trained_on"][0] == str(squad)
    assert 0.0 <= ranker.abstain_threshold <= 1.0
    text = report.read_text(encoding="utf-8")
    assert "# Ranker cross-validation (train.json, 5 folds grouped by article)" in text
    row = next(line for line in text.splitlines() if line.startswith("| all features |"))
    figures = [float(x) for x in row.strip("|").split("|")[1:]]
    assert len(figures) == 3 and all(0.0 <= f <= 1.0 for f in figures)  # top-1, top-5, MRR
    # The confidence model is fitted for a ranker's logits afterwards: the packaged one is kept.
    assert ranker.calibrator is not None
    assert ranker.calibrator.to_json() == Ranker.load().calibrator.to_json()  # type: ignore[union-attr]


def test_train_confidence_on_tiny_sets_writes_a_model_and_a_threshold(tmp_path: Path) -> None:
    """`qa train-confidence` over four tiny SQuAD-format sets laid out like ../shared/datasets."""
    datasets = tmp_path / "datasets"
    layout = {
        "squad2-dev-half/dev-v2.0.json": ["Volcanoes", "Bridges"],
        "xquad-en/xquad.en.json": ["Coffee", "Chess"],
        "squadshifts-amazon/amazon_reviews_v1.0.json": ["Rivers"],
        "squadshifts-reddit/reddit_v1.0.json": ["Telescopes"],
    }
    for name, topics in layout.items():
        (datasets / name).parent.mkdir(parents=True)
        tiny_squad(datasets / name, topics)
    seeds = tmp_path / "seeds"
    seeds.mkdir()
    for name, text in ARTICLES.items():
        (seeds / name).write_text(text, encoding="utf-8")
    gold = tmp_path / "gold.jsonl"
    lines = [
        {"id": "d1", "question": "Who welcomed the plan?", "answerable": True, "split": "dev",
         "doc_id": "quad", "evidence": "Prime Minister Shigeru Ishiba welcomed the plan."},
        {"id": "d2", "question": "What is the capital of France?", "answerable": False,
         "split": "dev", "tags": ["off-topic"]},
    ]  # fmt: skip
    gold.write_text("".join(json.dumps(line) + "\n" for line in lines), encoding="utf-8")
    out = tmp_path / "ranker.json"
    result = CliRunner().invoke(
        app,
        [
            "train-confidence",
            *("--datasets", str(datasets), "--gold", str(gold), "--seeds", str(seeds)),
            *("--out", str(out), "--cache", str(tmp_path / "cache")),
        ],
    )
    assert result.exit_code == 0, result.output
    fitted = Ranker.load(out)
    packaged = Ranker.load()
    assert np.array_equal(fitted.weights, packaged.weights)  # the ranker is untouched
    assert fitted.calibrator is not None and packaged.calibrator is not None
    assert fitted.calibrator.to_json() != packaged.calibrator.to_json()
    assert 0.0 <= fitted.abstain_threshold <= 1.0
    trained_on = fitted.meta["confidence_trained_on"] if fitted.meta else {}
    assert trained_on["fold"] == 0 and trained_on["questions"] > 0
