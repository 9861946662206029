"""`qa ask`: one question from the command line."""

from __future__ import annotations

from typing import TYPE_CHECKING, Annotated

import typer

from qa.cli.common import IndexOpt, SeedsOpt, command_settings, open_engine

if TYPE_CHECKING:
    from qa.answer.filters import ArticleFilter
    from qa.answer.followup import Turn
    from qa.engine.engine import Engine

HistoryOpt = Annotated[
    list[str] | None,
    typer.Option(
        "--history",
        help="A previous question of the conversation, oldest first (repeatable, at most 5): "
        "each is answered first, as in the chat, so a follow-up can lean on it.",
    ),
]


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
    history: HistoryOpt = None,
) -> None:
    """Answer one question from the command line."""
    from pydantic import ValidationError

    from qa.answer.filters import UnknownArticles
    from qa.service.schemas import AskRequest, AskResponse

    try:
        request = AskRequest(
            question=question,
            top_k=top_k,
            doc_ids=doc_id or None,
            since=since,
            until=until,
            history=[{"question": q, "doc_id": None} for q in history] if history else None,
        )
    except ValidationError as error:
        problems = [
            f"{'.'.join(str(p) for p in e['loc']) or 'question'}: {e['msg']}"
            for e in error.errors()
        ]
        raise typer.BadParameter("; ".join(problems)) from None
    engine = open_engine(command_settings(seeds, index))
    try:
        turns = _turns(engine, request.turns(), request.article_filter())
        answer = engine.ask(question, top_k, request.article_filter(), turns)
    except UnknownArticles as error:
        raise typer.BadParameter(str(error), param_hint="--doc-id") from None
    if as_json:
        out = AskResponse.of(answer)
        typer.echo(out.model_dump_json())
        return
    if answer.interpreted_as is not None:
        typer.echo(f"(read as: {answer.interpreted_as})\n")
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


def _turns(engine: Engine, asked: list[Turn], where: ArticleFilter) -> list[Turn]:
    """The history as the chat page sends it: each previous question answered in turn, with
    the article its answer cited (None when it abstained)."""
    from qa.answer.followup import Turn

    turns: list[Turn] = []
    for turn in asked:
        answer = engine.ask(turn.question, 1, where, turns)
        cited = answer.citations[0].doc_id if answer.text is not None and answer.citations else None
        turns.append(Turn(turn.question, cited))
    return turns
