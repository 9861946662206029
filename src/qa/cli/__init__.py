"""The `qa` command line: one module per command group, put together here.

Every command imports what it needs when it runs, so `qa --help` stays fast.
"""

from __future__ import annotations

import typer

from qa.cli import articles, ask, bench, evaluate, feedback, serve, train

app = typer.Typer(
    help="Extractive, cited question answering over a folder of news articles.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)
app.add_typer(feedback.app, name="feedback")
app.command("index")(articles.index)
app.command("ask")(ask.ask)
app.command("serve")(serve.serve)
app.command("eval")(evaluate.eval_)
app.command("train-ranker")(train.train_ranker)
app.command("train-confidence")(train.train_confidence)
app.command("train-spans")(train.train_spans)
app.command("train-reader")(train.train_reader)
app.command("bench")(bench.bench)
app.command("add")(articles.add)
app.command("remove")(articles.remove)

__all__ = ["app"]
