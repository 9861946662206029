"""The `qa` command line: index, ask, serve."""

from __future__ import annotations

import logging
import sys
from dataclasses import asdict
from pathlib import Path
from typing import Annotated, Any

import typer

from qa.config import Settings

app = typer.Typer(
    help="Extractive, cited question answering over a folder of news articles.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)

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
    from qa.embed import ModelError
    from qa.engine import Engine
    from qa.index import IndexUnavailable

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
    return (
        f"indexed {counts['articles']} articles, {counts['sentences']} sentences, "
        f"{counts['chunks']} chunks in {seconds:.1f} s"
    )


@app.command()
def index(
    seeds: SeedsOpt = None,
    index: IndexOpt = None,
    strict: Annotated[
        bool, typer.Option("--strict", help="Fail when any article cannot be read.")
    ] = False,
) -> None:
    """Build the index from the articles (a no-op when nothing changed)."""
    from qa.corpus import ArticleError, article_paths, read_article

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
    from qa.embed import ModelError
    from qa.engine import ModelLoader, prepare_index
    from qa.index import IndexUnavailable

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
) -> None:
    """Answer one question from the command line."""
    from qa.schemas import AskRequest, AskResponse, CitationOut

    try:
        AskRequest(question=question, top_k=top_k)
    except ValueError as error:
        raise typer.BadParameter(str(error).splitlines()[-1], param_hint="question") from None
    engine = open_engine(settings_for(seeds, index))
    answer = engine.ask(question, top_k)
    if as_json:
        out = AskResponse(
            question=answer.question,
            answer=answer.text,
            confidence=round(answer.confidence, 4),
            citations=[CitationOut(**asdict(c)) for c in answer.citations],
            took_ms=answer.took_ms,
        )
        typer.echo(out.model_dump_json())
        return
    if answer.text is None:
        typer.echo(f"No answer in these articles (confidence {answer.confidence:.2f}).")
        if answer.citations:
            typer.echo("\nClosest sentences (not answers):")
    else:
        typer.echo(f"{answer.text}\n\nconfidence {answer.confidence:.2f}\n\nCitations:")
    for i, c in enumerate(answer.citations, 1):
        typer.echo(
            f"  [{i}] {c.title} ({c.doc_id}, sentence {c.sentence_index}, "
            f"chars {c.start}-{c.end}, score {c.score:.2f})"
        )
        typer.echo(f"      {c.text}")


@app.command()
def serve(
    seeds: SeedsOpt = None,
    index: IndexOpt = None,
    host: Annotated[str | None, typer.Option(help="Address to bind [env QA_HOST].")] = None,
    port: Annotated[int | None, typer.Option(help="Port to bind [env QA_PORT].")] = None,
) -> None:
    """Serve the HTTP API (building the index first when it is missing or stale)."""
    import uvicorn

    from qa.api import create_app

    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s %(message)s")
    settings = settings_for(seeds, index, host=host, port=port)
    engine = open_engine(settings)
    err(f"serving {len(engine.index.documents)} articles on http://{settings.host}:{settings.port}")
    uvicorn.run(create_app(settings, engine), host=settings.host, port=settings.port)


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
) -> None:
    """Score answers on the gold set (or a SQuAD file), write reports, and gate on thresholds."""
    from qa.datasets import DatasetError, load_gold, load_squad, sample_evenly, squad_contexts
    from qa.evaluate import gate, load_thresholds, run, table, write_reports

    settings = settings_for(seeds, None, ranker=ranker)
    try:
        if squad is not None:
            excluded = squad_contexts(exclude_paragraphs_of) if exclude_paragraphs_of else None
            texts, items = load_squad(squad, exclude_contexts=excluded or frozenset())
            name = squad.stem + ("-heldout" if excluded else "")
        else:
            from qa.corpus import read_corpus

            documents, problems = read_corpus(settings.seeds_dir)
            for problem in problems:
                err(f"skipped {problem}")
            texts = {d.doc_id: d.text for d in documents}
            items = load_gold(gold, texts)
            name = "gold"
    except (DatasetError, OSError) as error:
        err(f"error: {error}")
        raise typer.Exit(2) from None
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
    failures = (
        [] if no_gate or not thresholds.exists() else gate(result, load_thresholds(thresholds))
    )
    json_path, md_path = write_reports(result, reports, failures)
    if name == "gold":
        (reports / "latest.md").write_text(md_path.read_text(encoding="utf-8"), encoding="utf-8")
    typer.echo(table(result))
    typer.echo(f"\nreports: {json_path} {md_path}")
    if failures:
        for failure in failures:
            err(f"GATE FAILED: {failure}")
        raise typer.Exit(1)


def main() -> None:
    app()


if __name__ == "__main__":
    main()
