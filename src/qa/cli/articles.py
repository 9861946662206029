"""`qa index`, `qa add` and `qa remove`: the articles folder and the index built from it."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

from qa.cli.common import IndexOpt, SeedsOpt, command_settings, err, open_engine, summary_line

if TYPE_CHECKING:
    from qa.corpus.fetch import FetchLimits
    from qa.corpus.seeds import ArticleFile
    from qa.engine.engine import Engine


def index(
    seeds: SeedsOpt = None,
    index: IndexOpt = None,
    strict: Annotated[
        bool, typer.Option("--strict", help="Fail when any article cannot be read.")
    ] = False,
) -> None:
    """Build the index from the articles (a no-op when nothing changed)."""
    from qa.corpus.documents import ArticleError, article_paths, read_article

    settings = command_settings(seeds, index)
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
    from qa.engine.startup import prepare_index
    from qa.index.errors import IndexUnavailable

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
        counts = built.manifest.counts
        typer.echo(
            f"index at {settings.index_dir} is up to date: {counts.articles} articles, "
            f"{counts.sentences} sentences, {counts.chunks} chunks (nothing to do)"
        )


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
    from qa.corpus.ingest import limits
    from qa.engine.updates import IndexUpdateFailed

    if not sources and not feed:
        raise typer.BadParameter("give files or URLs to add, or --feed URL")
    settings = command_settings(seeds, index)
    bounds = limits(settings, allow_private=True)
    articles, refused = _read_sources(sources or [], bounds, settings.max_article_bytes)
    engine = open_engine(settings) if articles or feed else None
    summaries: list[str] = []
    try:
        if articles and engine is not None:
            _write(engine, list(articles.values()))
        if feed and engine is not None:
            summaries, failed = _import_feeds(feed, engine, bounds, settings.max_article_bytes)
            refused += failed
    except IndexUpdateFailed as error:
        err(f"error: {error}")
        raise typer.Exit(2) from None
    for line in summaries:
        typer.echo(line)
    if refused:
        err(f"{refused} file(s), page(s) or feed item(s) not added")
        raise typer.Exit(1)


def _write(engine: Engine, articles: list[ArticleFile]) -> None:
    """Store `articles` (the write path of every write) and say what became of each."""
    for outcome in engine.write(articles):
        doc = outcome.document
        sentences = len(doc.sentences) if doc else 0
        title = f": {doc.title}" if doc else ""
        typer.echo(f"{outcome.change} {outcome.doc_id} ({sentences} sentences){title}")


def _read_sources(
    sources: list[str], bounds: FetchLimits, max_bytes: int
) -> tuple[dict[str, ArticleFile], int]:
    """The articles of files and web pages by doc_id, and how many sources were refused."""
    from qa.corpus.documents import ArticleError
    from qa.corpus.ingest import article_from_url
    from qa.corpus.seeds import TooLarge, article_from_file

    articles: dict[str, ArticleFile] = {}
    refused = 0
    for source in sources:
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
    return articles, refused


def _import_feeds(
    feeds: list[str], engine: Engine, bounds: FetchLimits, max_bytes: int
) -> tuple[list[str], int]:
    """Store each feed's articles that are not stored yet, each as soon as it is fetched (an
    interrupted import keeps what it finished; a re-run fetches only the rest); return one
    summary per feed read and how many feeds or feed items failed."""
    from qa.corpus.documents import ArticleError
    from qa.corpus.ingest import import_feed, known_keys

    known = known_keys(engine.index.documents)
    summaries = []
    failed = 0
    for url in feeds:
        err(f"reading feed {url}")
        try:
            found = import_feed(
                url,
                bounds,
                known,
                max_bytes=max_bytes,
                store=lambda article: _write(engine, [article]),
                progress=err,
            )
        except ArticleError as error:
            err(f"feed not read: {error}")
            failed += 1
            continue
        failed += len(found.failed)
        summaries.append(
            f"feed {url}: {len(found.added)} added, {len(found.present)} already "
            f"present, {len(found.failed)} failed"
            + "".join(f"\n  failed {link}: {reason}" for link, reason in found.failed)
        )
    return summaries, failed


def remove(
    doc_ids: Annotated[list[str], typer.Argument(help="doc_ids of the articles to delete.")],
    seeds: SeedsOpt = None,
    index: IndexOpt = None,
) -> None:
    """Delete articles from the seeds folder (durably) and from the index."""
    from qa.corpus.documents import ArticleError, check_doc_id
    from qa.engine.updates import IndexUpdateFailed

    settings = command_settings(seeds, index)
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
