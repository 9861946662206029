"""What the commands share: the folder options, settings from the command line, messages on
standard error, and opening the engine."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer

if TYPE_CHECKING:
    from qa.core.settings import Settings
    from qa.engine.engine import Engine
    from qa.index.model import Index

SeedsOpt = Annotated[
    Path | None,
    typer.Option("--seeds", help="Articles folder [env QA_SEEDS_DIR, default ./seeds]."),
]
IndexOpt = Annotated[
    Path | None,
    typer.Option("--index", help="Index folder [env QA_INDEX_DIR, default ./index]."),
]
DEFAULT_GOLD = Path("eval/gold.jsonl")
DEFAULT_DATASETS = Path("../shared/datasets")


def command_settings(seeds: Path | None, index: Path | None, **overrides: Any) -> Settings:
    """Settings from the environment, with the command line's values on top; a bad `QA_*`
    value is a usage error."""
    from qa.core.settings import settings_for

    try:
        return settings_for(seeds, index, **overrides)
    except ValueError as err:
        raise typer.BadParameter(str(err)) from None


def err(message: str) -> None:
    typer.echo(message, err=True)


def open_engine(settings: Settings) -> Engine:
    """Load model and index (building the index when needed), reporting on stderr."""
    from qa.embed.model import ModelError
    from qa.engine.engine import Engine
    from qa.index.errors import IndexUnavailable

    try:
        engine, report = Engine.open(settings, progress=sys.stderr.isatty(), log=err)
    except (ModelError, IndexUnavailable, FileNotFoundError) as error:
        err(f"error: {error}")
        raise typer.Exit(2) from None
    if report.built:
        err(summary_line(engine.index, report.seconds))
    return engine


def summary_line(index: Index, seconds: float) -> str:
    counts = index.manifest.counts
    line = (
        f"indexed {counts.articles} articles, {counts.sentences} sentences, "
        f"{counts.chunks} chunks in {seconds:.1f} s"
    )
    done = index.manifest.embedding
    if done is not None and done.articles:
        took = max(done.seconds, 1e-3)
        line += (
            f"; embedded {done.articles} articles ({done.articles / took:.1f}/s), "
            f"{done.sentences} sentences ({done.sentences / took:.1f}/s)"
        )
    if done is not None and done.resumed_articles:
        line += f"; {done.resumed_articles} articles resumed from an interrupted build"
    return line
