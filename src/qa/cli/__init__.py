"""The `qa` command line: index, ask, serve."""

from __future__ import annotations

import json
import logging
import sys
from dataclasses import asdict
from pathlib import Path
from typing import Annotated, Any

import typer

from qa.core.settings import Settings
from qa.evaluation.feedback import cli as feedback_cli

app = typer.Typer(
    help="Extractive, cited question answering over a folder of news articles.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)
app.add_typer(feedback_cli, name="feedback")

SeedsOpt = Annotated[
    Path | None,
    typer.Option("--seeds", help="Articles folder [env QA_SEEDS_DIR, default ./seeds]."),
]
IndexOpt = Annotated[
    Path | None,
    typer.Option("--index", help="Index folder [env QA_INDEX_DIR, default ./index]."),
]


def settings_for(seeds: Path | None, index: Path | None, **overrides: Any) -> Settings:
    """Settings from the environment, with the command line's values on top."""
    try:
        base = Settings()
        values = {"seeds_dir": seeds, "index_dir": index, **overrides}
        return base.model_copy(update={k: v for k, v in values.items() if v is not None})
    except ValueError as err:
        raise typer.BadParameter(str(err)) from None


def err(message: str) -> None:
    typer.echo(message, err=True)


def open_engine(settings: Settings) -> Any:
    """Load model and index (building the index when needed), reporting on stderr."""
    from qa.embed.model import ModelError
    from qa.index.index import IndexUnavailable
    from qa.service.engine import Engine

    try:
        engine, report = Engine.open(settings, progress=sys.stderr.isatty(), log=err)
    except (ModelError, IndexUnavailable, FileNotFoundError) as error:
        err(f"error: {error}")
        raise typer.Exit(2) from None
    if report.built:
        err(summary_line(engine.index, report.seconds))
    return engine


def summary_line(index: Any, seconds: float) -> str:
    counts = index.manifest["counts"]
    line = (
        f"indexed {counts['articles']} articles, {counts['sentences']} sentences, "
        f"{counts['chunks']} chunks in {seconds:.1f} s"
    )
    done = index.manifest.get("embedding", {})
    if done.get("articles"):
        took = max(float(done["seconds"]), 1e-3)
        line += (
            f"; embedded {done['articles']} articles ({done['articles'] / took:.1f}/s), "
            f"{done['sentences']} sentences ({done['sentences'] / took:.1f}/s)"
        )
    if done.get("resumed_articles"):
        line += f"; {done['resumed_articles']} articles resumed from an interrupted build"
    return line


@app.command()
def index(
    seeds: SeedsOpt = None,
    index: IndexOpt = None,
    strict: Annotated[
        bool, typer.Option("--strict", help="Fail when any article cannot be read.")
    ] = False,
) -> None:
    """Build the index from the articles (a no-op when nothing changed)."""
    from qa.corpus.documents import ArticleError, article_paths, read_article

    settings = settings_for(seeds, index)
    if strict:
        bad = []
        for path in article_paths(settings.seeds_dir):
            try:
                read_article(path)
            except (ArticleError, OSError) as error:
                bad.append(str(error))
        if bad:
            for line in bad:
                err(f"bad article: {line}")
            err(f"{len(bad)} article(s) cannot be indexed (--strict)")
            raise typer.Exit(1)
    from qa.embed.loader import ModelLoader
    from qa.embed.model import ModelError
    from qa.index.index import IndexUnavailable
    from qa.service.startup import prepare_index

    try:
        built, report = prepare_index(
            settings, ModelLoader(settings), progress=sys.stderr.isatty(), log=err
        )
    except (ModelError, IndexUnavailable, FileNotFoundError) as error:
        err(f"error: {error}")
        raise typer.Exit(2) from None
    if report.built:
        typer.echo(summary_line(built, report.seconds))
    else:
        counts = built.manifest["counts"]
        typer.echo(
            f"index at {settings.index_dir} is up to date: {counts['articles']} articles, "
            f"{counts['sentences']} sentences, {counts['chunks']} chunks (nothing to do)"
        )


@app.command()
def ask(
    question: Annotated[str, typer.Argument(help="The question, in quotes.")],
    seeds: SeedsOpt = None,
    index: IndexOpt = None,
    as_json: Annotated[
        bool, typer.Option("--json", help="Print exactly the JSON that POST /ask returns.")
    ] = False,
    top_k: Annotated[int, typer.Option("--top-k", min=1, max=20)] = 3,
    doc_id: Annotated[
        list[str] | None,
        typer.Option("--doc-id", help="Answer only from this article (repeatable)."),
    ] = None,
    since: Annotated[
        str | None, typer.Option(help="Only articles published on or after YYYY-MM-DD.")
    ] = None,
    until: Annotated[
        str | None, typer.Option(help="Only articles published on or before YYYY-MM-DD.")
    ] = None,
) -> None:
    """Answer one question from the command line."""
    from pydantic import ValidationError

    from qa.answer.filters import ArticleFilter, UnknownArticles
    from qa.service.schemas import AnswerSpanOut, AskRequest, AskResponse, CitationOut

    try:
        request = AskRequest(
            question=question, top_k=top_k, doc_ids=doc_id or None, since=since, until=until
        )
    except ValidationError as error:
        problems = [
            f"{'.'.join(str(p) for p in e['loc']) or 'question'}: {e['msg']}"
            for e in error.errors()
        ]
        raise typer.BadParameter("; ".join(problems)) from None
    where = ArticleFilter(
        frozenset(request.doc_ids) if request.doc_ids else None, request.since, request.until
    )
    engine = open_engine(settings_for(seeds, index))
    try:
        answer = engine.ask(question, top_k, where)
    except UnknownArticles as error:
        raise typer.BadParameter(str(error), param_hint="--doc-id") from None
    if as_json:
        out = AskResponse(
            question=answer.question,
            answer=answer.text,
            confidence=round(answer.confidence, 4),
            citations=[CitationOut(**asdict(c)) for c in answer.citations],
            answer_span=AnswerSpanOut(**asdict(answer.answer_span)) if answer.answer_span else None,
            took_ms=answer.took_ms,
        )
        typer.echo(out.model_dump_json())
        return
    if answer.text is None:
        typer.echo(f"No answer in these articles (confidence {answer.confidence:.2f}).")
        if answer.citations:
            typer.echo("\nClosest sentences (not answers):")
    else:
        short = f"short answer: {answer.answer_span.text}\n" if answer.answer_span else ""
        typer.echo(f"{answer.text}\n{short}\nconfidence {answer.confidence:.2f}\n\nCitations:")
    for i, c in enumerate(answer.citations, 1):
        said = ", ".join(x for x in (c.source, c.published and c.published[:10]) if x)
        typer.echo(
            f"  [{i}] {c.title}{' — ' + said if said else ''} ({c.doc_id}, sentence "
            f"{c.sentence_index}, chars {c.start}-{c.end}, score {c.score:.2f})"
        )
        if c.url:
            typer.echo(f"      {c.url}")
        typer.echo(f"      {c.text}")


@app.command()
def serve(
    seeds: SeedsOpt = None,
    index: IndexOpt = None,
    host: Annotated[str | None, typer.Option(help="Address to bind [env QA_HOST].")] = None,
    port: Annotated[int | None, typer.Option(help="Port to bind [env QA_PORT].")] = None,
    workers: Annotated[
        int | None,
        typer.Option(min=1, max=64, help="Server processes sharing one index [env QA_WORKERS]."),
    ] = None,
) -> None:
    """Serve the HTTP API (building the index first when it is missing or stale)."""
    from qa.core.runtime import limit_threads, resolve_threads

    settings = settings_for(seeds, index, host=host, port=port, workers=workers)
    # Before NumPy loads: its BLAS pool is sized once, from the environment (workers inherit it).
    limit_threads(resolve_threads(settings.threads, settings.workers))

    import uvicorn

    from qa.service.app import SHUTDOWN_GRACE_SECONDS, create_app
    from qa.service.http_errors import HTTP_PROTOCOL

    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s %(message)s")
    if settings.workers > 1:
        serve_workers(settings)
        return
    if not settings.seeds_dir.is_dir():
        err(f"error: seeds folder {settings.seeds_dir} does not exist")
        raise typer.Exit(2)
    # The model and index load in the background (building the index when needed), so /livez
    # answers at once and /readyz says when questions can be asked.
    err(
        f"serving on http://{settings.host}:{settings.port}; loading the model and index "
        f"(building the index from {settings.seeds_dir} when needed); /readyz says when ready"
    )
    app = create_app(settings, on_load_failure=lambda: setattr(server, "should_exit", True))
    server = uvicorn.Server(
        uvicorn.Config(
            app,
            host=settings.host,
            port=settings.port,
            access_log=False,
            timeout_graceful_shutdown=SHUTDOWN_GRACE_SECONDS,
            http=HTTP_PROTOCOL,
        )
    )
    server.run()
    if app.state.load_error:
        err(f"error: {app.state.load_error}")
        raise typer.Exit(2)


DEFAULT_GOLD = Path("eval/gold.jsonl")
DEFAULT_THRESHOLDS = Path("eval/thresholds.toml")
DEFAULT_REPORTS = Path("eval/reports")


@app.command("eval")
def eval_(
    seeds: SeedsOpt = None,
    gold: Annotated[Path, typer.Option(help="Gold question file (JSON lines).")] = DEFAULT_GOLD,
    squad: Annotated[
        Path | None, typer.Option(help="Evaluate on a SQuAD-format file instead of the gold set.")
    ] = None,
    limit: Annotated[
        int | None, typer.Option(min=1, help="Evenly sample this many questions.")
    ] = None,
    exclude_paragraphs_of: Annotated[
        Path | None,
        typer.Option(help="Skip questions whose paragraph is also in this SQuAD file."),
    ] = None,
    split: Annotated[
        str | None, typer.Option(help="Only questions of this split (dev / test).")
    ] = None,
    thresholds: Annotated[Path, typer.Option(help="Gate thresholds (TOML).")] = DEFAULT_THRESHOLDS,
    no_gate: Annotated[bool, typer.Option("--no-gate", help="Report only; never fail.")] = False,
    reports: Annotated[Path, typer.Option(help="Folder for the reports.")] = DEFAULT_REPORTS,
    ranker: Annotated[
        Path | None, typer.Option(help="Ranker weights to evaluate [env QA_RANKER].")
    ] = None,
    cache: Annotated[
        Path | None,
        typer.Option(help="Keep the eval index here between runs instead of a temp folder."),
    ] = None,
    sizes: Annotated[
        bool,
        typer.Option(
            "--sizes",
            help="Report per set and corpus size (1-64 articles sampled from --datasets, plus "
            "the seed articles with distractors) on held-out questions.",
        ),
    ] = False,
    distractors: Annotated[
        int,
        typer.Option(
            min=0,
            help="Add this many XQuAD articles (from --datasets) beside the seeds, so the gold "
            "questions are answered from a corpus larger than one search returns.",
        ),
    ] = 0,
    datasets: Annotated[
        Path, typer.Option(help="Folder of the SQuAD-format sets (--sizes, --distractors).")
    ] = Path("../shared/datasets"),
) -> None:
    """Score answers on the gold set (or a SQuAD file, or corpora of many sizes), write
    reports, and gate on thresholds."""
    from qa.evaluation.datasets import (
        DatasetError,
        load_gold,
        load_squad,
        sample_evenly,
        squad_contexts,
    )
    from qa.evaluation.runner import gate, load_thresholds, run, table, write_reports

    settings = settings_for(seeds, None, ranker=ranker)
    if sizes:
        _eval_sizes(settings, datasets, gold, reports, cache or Path(".cache/confidence"))
        return
    try:
        if squad is not None:
            excluded = squad_contexts(exclude_paragraphs_of) if exclude_paragraphs_of else None
            texts, items = load_squad(squad, exclude_contexts=excluded or frozenset())
            name = squad.stem + ("-heldout" if excluded else "")
        else:
            from qa.corpus.documents import read_corpus

            documents, problems = read_corpus(settings.seeds_dir)
            for problem in problems:
                err(f"skipped {problem}")
            texts = {d.doc_id: d.text for d in documents}
            items = load_gold(gold, texts)
            name = "gold"
            if distractors:
                from qa.evaluation.corpora import xquad_distractors

                texts.update(xquad_distractors(datasets, distractors))
                name = f"gold+{distractors}"
    except (DatasetError, OSError) as error:
        err(f"error: {error}")
        raise typer.Exit(2) from None
    if not no_gate and not thresholds.exists():
        err(f"error: no gate thresholds at {thresholds} (give --thresholds, or --no-gate)")
        raise typer.Exit(2)
    if split:
        items = [i for i in items if i.split == split]
        name += f"-{split}"
    items = sample_evenly(items, limit)
    if limit:
        name += f"-limit{limit}"
    if not items:
        err("error: no questions to evaluate")
        raise typer.Exit(2)
    err(f"evaluating {len(items)} questions over {len(texts)} documents ({name})")
    result = run(
        name,
        items,
        texts,
        settings,
        work_dir=cache / name if cache else None,
        source=squad or gold,
        log=err,
    )
    failures = [] if no_gate else gate(result, load_thresholds(thresholds))
    json_path, md_path = write_reports(result, reports, failures)
    if name == "gold":
        (reports / "latest.md").write_text(md_path.read_text(encoding="utf-8"), encoding="utf-8")
    typer.echo(table(result))
    typer.echo(f"\nreports: {json_path} {md_path}")
    if failures:
        for failure in failures:
            err(f"GATE FAILED: {failure}")
        raise typer.Exit(1)


def _eval_sizes(settings: Settings, datasets: Path, gold: Path, reports: Path, cache: Path) -> None:
    import json

    from qa.evaluation.calibrate import build_corpora
    from qa.evaluation.metrics import summarize
    from qa.evaluation.runner import run_sizes, sizes_markdown

    corpora = build_corpora(datasets, settings.seeds_dir, gold)
    err(f"evaluating held-out questions on {len(corpora)} corpora")
    result = run_sizes(corpora, settings, cache, log=err)
    text = sizes_markdown(result)
    reports.mkdir(parents=True, exist_ok=True)
    (reports / "sizes.md").write_text(
        f"# Held-out figures per set and corpus size\n\n- ranker: `{result.meta.get('ranker')}`"
        f" (sha256 `{str(result.meta.get('ranker_sha256'))[:16]}…`), commit "
        f"`{result.meta.get('git_commit')}`\n- reproduce: `qa eval --sizes`\n\n" + text,
        encoding="utf-8",
    )
    payload = {
        f"{pool}/{size}": summarize(outcomes) for (pool, size), outcomes in result.groups.items()
    }
    (reports / "sizes.json").write_text(
        json.dumps({"meta": result.meta, "metrics": payload}, indent=1) + "\n", encoding="utf-8"
    )
    typer.echo(text)


DEFAULT_SQUAD = Path("../shared/datasets/squad2-dev-half/dev-v2.0.json")
ABLATIONS = {
    "dense": ("dense", "chunk_dense", "doc_dense", "para_dense"),
    "neighbour dense": ("prev_dense", "next_dense", "window_dense", "window_dense_mean"),
    "bm25": ("bm25", "window_bm25", "chunk_bm25"),
    "coverage": (
        "coverage",
        "window_coverage",
        "prev_coverage",
        "next_coverage",
        "bigram",
        "novelty",
        "best_coverage",
    ),
    "answer type": ("has_type", "type_match", "window_type_match"),
    "focus, names, figures, proximity": (
        "focus",
        "window_focus",
        "names",
        "new_names",
        "figures",
        "proximity",
    ),
    "position and length": ("lead", "length"),
}


@app.command("train-ranker")
def train_ranker(
    seeds: SeedsOpt = None,
    squad: Annotated[Path, typer.Option(help="SQuAD 2.0 file to train on.")] = DEFAULT_SQUAD,
    gold: Annotated[
        Path, typer.Option(help="Gold file; only its dev part is used.")
    ] = DEFAULT_GOLD,
    gold_weight: Annotated[float, typer.Option(help="Weight of a gold dev question.")] = 5.0,
    out: Annotated[Path, typer.Option(help="Where to write the ranker JSON.")] = Path(
        "src/qa/answer/ranker.json"
    ),
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

    from qa.answer.retrieval import ALL_FEATURES
    from qa.corpus.documents import read_corpus
    from qa.evaluation.datasets import load_gold, load_squad
    from qa.evaluation.runner import open_eval_engine
    from qa.evaluation.train_ranker import collect, cross_validate, merge, save_ranker, train_final

    settings = settings_for(seeds, None)
    texts, items = load_squad(squad)
    err(f"collecting candidates for {len(items)} SQuAD questions")
    engine = open_eval_engine(texts, settings, cache / squad.stem, log=err)
    squad_ex = collect(items, engine, "squad")
    documents, _ = read_corpus(settings.seeds_dir)
    gold_texts = {d.doc_id: d.text for d in documents}
    gold_items = [i for i in load_gold(gold, gold_texts) if i.split == "dev"]
    gold_engine = open_eval_engine(
        gold_texts, settings, cache / "gold", embedder=engine.embedder, log=err
    )
    gold_ex = collect(gold_items, gold_engine, "gold-dev", weight=gold_weight)
    ex = merge([squad_ex, gold_ex])
    squad_q = np.arange(len(squad_ex.group))
    rows = {"all features": cross_validate(ex, squad_q, l2)}
    if ablation:
        for family, names in ABLATIONS.items():
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


DEFAULT_DATASETS = Path("../shared/datasets")


@app.command("train-confidence")
def train_confidence(
    seeds: SeedsOpt = None,
    datasets: Annotated[
        Path, typer.Option(help="Folder of the SQuAD-format sets (read in place).")
    ] = DEFAULT_DATASETS,
    gold: Annotated[Path, typer.Option(help="Gold file; only its dev part is used.")] = (
        DEFAULT_GOLD
    ),
    ranker: Annotated[
        Path | None, typer.Option(help="Ranker to fit it for; default: the packaged one.")
    ] = None,
    out: Annotated[Path, typer.Option(help="Where to write the ranker JSON.")] = Path(
        "src/qa/answer/ranker.json"
    ),
    cache: Annotated[Path, typer.Option(help="Keep the corpora's indexes here.")] = Path(
        ".cache/confidence"
    ),
) -> None:
    """Fit the confidence model and abstention threshold on corpora of 1-64 articles (training
    fold only); `qa eval --sizes` reports the held-out fold."""
    from qa.answer.ranker import Ranker
    from qa.evaluation.calibrate import build_corpora
    from qa.evaluation.calibrate import train_confidence as fit
    from qa.evaluation.train_ranker import save_ranker

    settings = settings_for(seeds, None, ranker=ranker)
    corpora = build_corpora(datasets, settings.seeds_dir, gold)
    err(f"fitting confidence on {len(corpora)} corpora")
    fitted = fit(Ranker.load(settings.ranker), settings, corpora, cache, log=err)
    save_ranker(fitted, out)
    typer.echo(f"threshold {fitted.abstain_threshold}; wrote {out}")


@app.command("train-spans")
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
    from qa.evaluation.span_train import DEFAULT_HELDOUT, DEFAULT_TRAIN, run

    files = squad or list(DEFAULT_TRAIN)
    typer.echo(run(files, heldout or (None if squad else DEFAULT_HELDOUT), out, report, err))
    typer.echo(f"wrote {out}")


def serve_workers(settings: Settings) -> None:
    """Build the index once here, then run `settings.workers` processes that each load it.

    The workers are fresh interpreters started by uvicorn; they read their settings from QA_*
    variables, so this process's settings are written there (each worker's thread budget being
    its share of the cores). The FAISS stores are memory-mapped, so the workers share one copy
    of the vectors in the page cache.
    """
    import os

    import uvicorn

    from qa.core.runtime import resolve_threads
    from qa.embed.loader import ModelLoader
    from qa.embed.model import ModelError
    from qa.index.index import IndexUnavailable
    from qa.service.startup import prepare_index

    try:
        built, report = prepare_index(settings, ModelLoader(settings), log=err)
    except (ModelError, IndexUnavailable, FileNotFoundError) as error:
        err(f"error: {error}")
        raise typer.Exit(2) from None
    if report.built:
        err(summary_line(built, report.seconds))
    del built
    share = resolve_threads(settings.threads, settings.workers)
    for name, value in settings.model_dump(mode="json").items():
        if value is not None:
            text = value if isinstance(value, str) else json.dumps(value)
            os.environ[f"QA_{name.upper()}"] = text
    os.environ["QA_THREADS"] = str(share)
    err(
        f"serving on http://{settings.host}:{settings.port} with {settings.workers} workers "
        f"of {share} thread(s) each"
    )
    from qa.service.app import SHUTDOWN_GRACE_SECONDS
    from qa.service.http_errors import HTTP_PROTOCOL

    uvicorn.run(
        "qa.service.app:create_app",
        factory=True,
        host=settings.host,
        port=settings.port,
        workers=settings.workers,
        timeout_graceful_shutdown=SHUTDOWN_GRACE_SECONDS,
        http=HTTP_PROTOCOL,
    )


@app.command()
def bench(
    out: Annotated[Path, typer.Option(help="Folder for the reports.")] = Path("bench/reports"),
    smoke: Annotated[
        bool, typer.Option("--smoke", help="Tiny sizes, seconds long (what CI runs).")
    ] = False,
    only: Annotated[
        list[str] | None,
        typer.Option(help="Run only these sections: encoders inproc build http scaling."),
    ] = None,
    squad: Annotated[
        Path | None, typer.Option(help="squad2-dev-half (SQuAD 2.0 JSON) for the build figures.")
    ] = None,
    duration: Annotated[
        float | None, typer.Option(min=0.5, help="Seconds per HTTP load level.")
    ] = None,
    sizes: Annotated[
        str | None, typer.Option(help="Vector counts of the scaling curve, comma-separated.")
    ] = None,
    big: Annotated[
        int | None, typer.Option(min=0, help="Sentences of the large build corpus (0 = skip).")
    ] = None,
    load_tool: Annotated[
        str, typer.Option(help="Load generator: auto (wrk when installed), wrk or python.")
    ] = "auto",
    update: Annotated[
        Path | None,
        typer.Option(help="A previous report's JSON; sections not run now keep its figures."),
    ] = None,
) -> None:
    """Measure latency, throughput, build speed, cold start, memory and index scaling."""
    from qa.bench import BenchConfig, run_bench
    from qa.bench.suite import SECTIONS

    settings = settings_for(None, None)
    values: dict[str, Any] = {
        "encoder": settings.encoder,
        "encoder_cache": settings.encoder_cache,
        "threads": settings.threads,
        "seeds": settings.seeds_dir,
        "load_tool": load_tool,
    }
    if only:
        unknown = sorted(set(only) - set(SECTIONS))
        if unknown:
            raise typer.BadParameter(f"unknown sections {unknown}; choose from {SECTIONS}")
        values["sections"] = tuple(only)
    if squad is not None:
        values["squad"] = squad
    if duration is not None:
        values["duration"] = duration
    if sizes is not None:
        values["scaling_sizes"] = tuple(int(x) for x in sizes.split(",") if x.strip())
    if big is not None:
        values["big_sentences"] = big
    if update is not None:
        values["update"] = update
    config = BenchConfig.smoke(out, **values) if smoke else BenchConfig(out=out, **values)
    json_path, md_path = run_bench(config, log=err)
    typer.echo(md_path.read_text(encoding="utf-8"))
    typer.echo(f"reports: {json_path} {md_path}")


@app.command()
def add(
    sources: Annotated[
        list[str] | None,
        typer.Argument(
            help="Article files (.txt / .md, doc_id = the name without extension; .html news "
            "pages) or http(s) URLs of news pages.",
            show_default=False,
        ),
    ] = None,
    feed: Annotated[
        list[str] | None,
        typer.Option(
            "--feed",
            help="An RSS or Atom feed URL: add each linked article not stored yet (repeatable).",
        ),
    ] = None,
    seeds: SeedsOpt = None,
    index: IndexOpt = None,
) -> None:
    """Add or replace articles: store them durably in the seeds folder and update the index.

    Web pages are fetched (bounded by QA_FETCH_TIMEOUT, QA_FETCH_MAX_BYTES and
    QA_FETCH_MAX_REDIRECTS; any address, since you run this) and their article text and
    metadata extracted. A server on the same folders serves the change within
    QA_RELOAD_INTERVAL seconds. What cannot be added is reported by name (exit code 1); the
    rest is still added.
    """
    from qa.corpus.documents import ArticleError
    from qa.corpus.ingest import article_from_url, import_feed, known_urls, limits
    from qa.corpus.seeds import ArticleFile, TooLarge, article_from_file
    from qa.service.updates import IndexUpdateFailed

    if not sources and not feed:
        raise typer.BadParameter("give files or URLs to add, or --feed URL")
    settings = settings_for(seeds, index)
    bounds = limits(settings, allow_private=True)
    max_bytes = settings.max_article_bytes
    articles: dict[str, ArticleFile] = {}
    refused = 0
    for source in sources or []:
        try:
            if source.lower().startswith(("http://", "https://")):
                article = article_from_url(source, bounds, doc_id=None, max_bytes=max_bytes)
            else:
                path = Path(source)
                article = article_from_file(
                    path.name, path.read_bytes(), doc_id=None, max_bytes=max_bytes
                )
            if article.doc_id in articles:
                raise ArticleError(f"doc_id {article.doc_id!r} is given twice")
        except (ArticleError, TooLarge, OSError) as error:
            err(f"not added: {source}: {error}")
            refused += 1
            continue
        articles[article.doc_id] = article
    engine = open_engine(settings) if articles or feed else None
    summaries = []
    if feed and engine is not None:
        known = known_urls(engine.index.documents)
        known.update(url for a in articles.values() if (url := a.document.url))
        for url in feed:
            err(f"reading feed {url}")
            try:
                found = import_feed(url, bounds, known, max_bytes=max_bytes, progress=err)
            except ArticleError as error:
                err(f"feed not read: {error}")
                refused += 1
                continue
            for article in found.articles:
                articles.setdefault(article.doc_id, article)
            refused += len(found.failed)
            summaries.append(
                f"feed {url}: {len(found.articles)} added, {len(found.present)} already "
                f"present, {len(found.failed)} failed"
                + "".join(f"\n  failed {link}: {reason}" for link, reason in found.failed)
            )
    if articles and engine is not None:
        try:
            outcomes = engine.write(list(articles.values()))
        except IndexUpdateFailed as error:
            err(f"error: {error}")
            raise typer.Exit(2) from None
        for outcome in outcomes:
            doc = outcome.document
            sentences = len(doc.sentences) if doc else 0
            title = f": {doc.title}" if doc else ""
            typer.echo(f"{outcome.change} {outcome.doc_id} ({sentences} sentences){title}")
    for line in summaries:
        typer.echo(line)
    if refused:
        err(f"{refused} file(s), page(s) or feed item(s) not added")
        raise typer.Exit(1)


@app.command()
def remove(
    doc_ids: Annotated[list[str], typer.Argument(help="doc_ids of the articles to delete.")],
    seeds: SeedsOpt = None,
    index: IndexOpt = None,
) -> None:
    """Delete articles from the seeds folder (durably) and from the index."""
    from qa.corpus.documents import ArticleError, check_doc_id
    from qa.service.updates import IndexUpdateFailed

    settings = settings_for(seeds, index)
    valid: list[str] = []
    failed = 0
    for doc_id in doc_ids:
        try:
            valid.append(check_doc_id(doc_id))
        except ArticleError as error:
            err(f"not removed: {error}")
            failed += 1
    if valid:
        engine = open_engine(settings)
        try:
            outcomes = engine.remove(valid)
        except IndexUpdateFailed as error:
            err(f"error: {error}")
            raise typer.Exit(2) from None
        for outcome in outcomes:
            if outcome.change == "missing":
                err(f"not removed: no article with doc_id {outcome.doc_id!r}")
                failed += 1
            else:
                typer.echo(f"removed {outcome.doc_id}")
    if failed:
        raise typer.Exit(1)


def main() -> None:
    app()


if __name__ == "__main__":
    main()
