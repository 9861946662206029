"""`qa train-ranker`, `-confidence`, `-spans` and `-reader`: fit the models."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from qa.cli.common import DEFAULT_DATASETS, DEFAULT_GOLD, SeedsOpt, command_settings, err
from qa.training.pooling import Pooling

DEFAULT_SQUAD = Path("../shared/datasets/squad2-dev-half/dev-v2.0.json")
DEFAULT_RANKER = Path("src/qa/answer/ranker.json")


GoldDevOpt = Annotated[Path, typer.Option(help="Gold file; only its dev part is used.")]
RankerOut = Annotated[Path, typer.Option(help="Where to write the ranker JSON.")]


def train_ranker(
    seeds: SeedsOpt = None,
    squad: Annotated[Path, typer.Option(help="SQuAD 2.0 file to train on.")] = DEFAULT_SQUAD,
    gold: GoldDevOpt = DEFAULT_GOLD,
    gold_weight: Annotated[float, typer.Option(help="Weight of a gold dev question.")] = 5.0,
    out: RankerOut = DEFAULT_RANKER,
    l2: Annotated[float, typer.Option(help="L2 penalty of the ranker.")] = 1e-3,
    ablation: Annotated[
        bool, typer.Option(help="Also cross-validate without each family.")
    ] = False,
    cache: Annotated[Path, typer.Option(help="Keep the training indexes here.")] = Path(
        ".cache/train"
    ),
    report: Annotated[Path, typer.Option(help="Markdown report of the cross-validation.")] = Path(
        "eval/reports/ranker-cv.md"
    ),
) -> None:
    """Fit the ranker on SQuAD 2.0 + gold dev and report 5-fold CV figures; then refit the
    confidence model for it (`qa train-confidence`)."""
    import numpy as np

    from qa.answer.features import ALL_FEATURES, FAMILIES
    from qa.corpus.documents import read_corpus
    from qa.embed.loader import ModelLoader
    from qa.evaluation.datasets import load_gold, load_squad
    from qa.evaluation.runner import open_eval_engine
    from qa.training.train_ranker import collect, cross_validate, merge, save_ranker, train_final

    settings = command_settings(seeds, None)
    texts, items = load_squad(squad)
    err(f"collecting candidates for {len(items)} SQuAD questions")
    embedder = ModelLoader(settings).get()  # one model for both indexes
    engine = open_eval_engine(texts, settings, cache / squad.stem, embedder=embedder, log=err)
    squad_ex = collect(items, engine, "squad")
    documents, _ = read_corpus(settings.seeds_dir)
    gold_texts = {d.doc_id: d.text for d in documents}
    gold_items = [i for i in load_gold(gold, gold_texts) if i.split == "dev"]
    gold_engine = open_eval_engine(gold_texts, settings, cache / "gold", embedder=embedder, log=err)
    gold_ex = collect(gold_items, gold_engine, "gold-dev", weight=gold_weight)
    ex = merge([squad_ex, gold_ex])
    squad_q = np.arange(len(squad_ex.group))
    rows = {"all features": cross_validate(ex, squad_q, l2)}
    if ablation:
        for family, names in FAMILIES.items():
            kept = tuple(f for f in ALL_FEATURES if f.split(":")[-1] not in names)
            rows[f"without {family}"] = cross_validate(ex, squad_q, l2, kept)
    meta = {
        "trained_on": [
            str(squad),
            f"{gold} (dev part; weight {gold_weight})",
        ],
        "l2": l2,
        "cv_squad": {k: round(v, 4) for k, v in rows["all features"].items()},
    }
    from qa.answer.ranker import Ranker

    ranker = train_final(ex, l2, meta, Ranker.load(settings.ranker))
    save_ranker(ranker, out)
    keys = ["top1", "top5", "mrr"]
    lines = [
        f"# Ranker cross-validation ({squad.name}, 5 folds grouped by article)",
        "",
        "| variant | " + " | ".join(keys) + " |",
        "|---|" + "---:|" * len(keys),
    ]
    for name, got in rows.items():
        lines.append(f"| {name} | " + " | ".join(f"{got[k]:.3f}" for k in keys) + " |")
    text = "\n".join(lines) + "\n"
    report.parent.mkdir(parents=True, exist_ok=True)
    report.write_text(text, encoding="utf-8")
    typer.echo(text)
    typer.echo(f"wrote {out}; now refit its confidence model: qa train-confidence --ranker {out}")


def train_confidence(
    seeds: SeedsOpt = None,
    datasets: Annotated[
        Path, typer.Option(help="Folder of the SQuAD-format sets (read in place).")
    ] = DEFAULT_DATASETS,
    gold: GoldDevOpt = DEFAULT_GOLD,
    ranker: Annotated[
        Path | None, typer.Option(help="Ranker to fit it for; default: the packaged one.")
    ] = None,
    out: RankerOut = DEFAULT_RANKER,
    cache: Annotated[Path, typer.Option(help="Keep the corpora's indexes here.")] = Path(
        ".cache/confidence"
    ),
) -> None:
    """Fit the confidence model and abstention threshold on corpora of 1-64 articles (training
    fold only); `qa eval --sizes` reports the held-out fold."""
    from qa.answer.ranker import Ranker
    from qa.evaluation.corpora import build_corpora
    from qa.training.calibrate import train_confidence as fit
    from qa.training.train_ranker import save_ranker

    settings = command_settings(seeds, None, ranker=ranker)
    corpora = build_corpora(datasets, settings.seeds_dir, gold)
    err(f"fitting confidence on {len(corpora)} corpora")
    fitted = fit(Ranker.load(settings.ranker), settings, corpora, cache, log=err)
    save_ranker(fitted, out)
    typer.echo(f"threshold {fitted.abstain_threshold}; wrote {out}")


def train_spans(
    squad: Annotated[
        list[Path] | None, typer.Option(help="SQuAD-format file to train on (repeatable).")
    ] = None,
    heldout: Annotated[
        Path | None, typer.Option(help="Never-tuned held-out set (its shared paragraphs dropped).")
    ] = None,
    out: Annotated[Path, typer.Option(help="Where to write the scorer JSON.")] = Path(
        "src/qa/answer/spans.json"
    ),
    report: Annotated[Path, typer.Option(help="Markdown report of the figures.")] = Path(
        "eval/reports/spans-cv.md"
    ),
) -> None:
    """Fit the short-answer scorer on SQuAD-format answers; report CV and held-out figures."""
    from qa.training.span_train import DEFAULT_HELDOUT, DEFAULT_TRAIN, run

    files = squad or list(DEFAULT_TRAIN)
    typer.echo(run(files, heldout or (None if squad else DEFAULT_HELDOUT), out, report, err))
    typer.echo(f"wrote {out}")


def train_reader(
    datasets: Annotated[
        Path, typer.Option(help="Folder of the SQuAD-format sets (read in place).")
    ] = DEFAULT_DATASETS,
    layers: Annotated[int, typer.Option(help="Keep the first N layers of MiniLM (1-6).")] = 6,
    max_len: Annotated[int, typer.Option(help="Tokens per (question, candidate) pair.")] = 96,
    steps: Annotated[int, typer.Option(help="Optimiser steps (sets the LR schedule).")] = 2000,
    lists_per_step: Annotated[int, typer.Option(help="Question lists per step.")] = 8,
    max_candidates: Annotated[int, typer.Option(help="Most candidates in one list.")] = 4,
    lr: Annotated[float, typer.Option(min=0.0, help="Peak learning rate of the encoder.")] = 5e-5,
    head_lr: Annotated[
        float, typer.Option(min=0.0, help="Peak learning rate of the heads and none logit.")
    ] = 5e-4,
    pooling: Annotated[
        Pooling,
        typer.Option(help="What the relevance head reads: the [CLS] vector or the tokens' mean."),
    ] = Pooling.CLS,
    time_budget: Annotated[
        float | None, typer.Option(help="Stop training after this many minutes (keeps weights).")
    ] = None,
    max_questions: Annotated[
        int | None,
        typer.Option(help="Training questions per pool, answerable and unanswerable each."),
    ] = None,
    eval_limit: Annotated[
        int, typer.Option(help="Held-out (un)answerable questions read per set.")
    ] = 400,
    seed: Annotated[int, typer.Option(help="Seed of initialisation and data order.")] = 0,
    threads: Annotated[int, typer.Option(help="torch threads.")] = 2,
    work: Annotated[Path, typer.Option(help="Checkpoints and finished weights.")] = Path(
        ".cache/reader/work"
    ),
    out: Annotated[Path, typer.Option(help="The int8 ONNX file (reader.json beside it).")] = Path(
        "src/qa/answer/reader.onnx"
    ),
    report: Annotated[Path, typer.Option(help="Markdown report.")] = Path("eval/reports/reader.md"),
    cache: Annotated[Path, typer.Option(help="Keep the MiniLM embeddings for mining here.")] = Path(
        ".cache/reader/embeddings"
    ),
    smoke: Annotated[
        bool, typer.Option(help="A tiny run in seconds (1 layer, a few steps, few articles).")
    ] = False,
) -> None:
    """Train the cross-encoder reader, export it to int8 ONNX and report held-out figures;
    resumes from the checkpoints in --work."""
    given = dict(locals())  # the options as typed, for the report's command line
    from qa.training.reader_lists import Mix
    from qa.training.reader_run import RunOptions, run
    from qa.training.reader_train import TrainConfig

    if smoke:
        layers, max_len, steps, lists_per_step = 1, 48, 4, 2
    config = TrainConfig(
        layers=layers,
        max_len=max_len,
        steps=steps,
        lists_per_step=lists_per_step,
        lr=lr,
        head_lr=head_lr,
        pooling=pooling,
        seed=seed,
        threads=threads,
        mix=Mix(max_candidates=max_candidates),
        time_budget_minutes=time_budget,
    )
    options = RunOptions(
        datasets=datasets,
        work=work,
        out=out,
        report=report,
        config=config,
        max_questions=20 if smoke else max_questions,
        max_articles=3 if smoke else None,
        eval_limit=10 if smoke else eval_limit,
        embeddings=cache,
        command=_reader_command(given),
        progress=not smoke,
    )
    typer.echo(run(options, log=err))


def _reader_command(options: dict[str, object]) -> str:
    """The command line that repeats a run, for its report."""
    if options.get("smoke"):
        return "qa train-reader --smoke"
    flags = [
        f"--{k.replace('_', '-')} {v}"
        for k, v in options.items()
        if v is not None and k not in ("smoke", "cache")
    ]
    return " ".join(["qa train-reader", *flags])
