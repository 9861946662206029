"""`qa feedback`: votes from the chat page turned into eval-set candidates."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Annotated

import typer

from qa.cli.common import DEFAULT_GOLD, command_settings, err

app = typer.Typer(
    help="Votes from the chat page: turn them into eval-set candidates.", no_args_is_help=True
)


@app.command("export")
def export(
    file: Annotated[
        Path | None,
        typer.Option(
            "--file", help="Feedback file [env QA_FEEDBACK_PATH, default feedback.jsonl]."
        ),
    ] = None,
    seeds: Annotated[
        Path | None,
        typer.Option(
            "--seeds", help="Articles folder to check evidence against [env QA_SEEDS_DIR]."
        ),
    ] = None,
    gold: Annotated[
        Path, typer.Option(help="Gold file whose questions are left out.")
    ] = DEFAULT_GOLD,
    out: Annotated[
        Path | None,
        typer.Option("--out", help="Write the candidate lines here instead of standard output."),
    ] = None,
) -> None:
    """Print 👍 answers as candidate gold lines (JSON lines) and list 👎 answers as misses.

    The candidates are for a person to review (and give an `answer` and a split) before adding
    them to eval/gold.jsonl; misses and notes go to standard error.
    """
    from qa.corpus.documents import read_corpus
    from qa.evaluation.feedback import export as export_votes
    from qa.evaluation.feedback import gold_questions, read_feedback
    from qa.service.feedback import json_line

    settings = command_settings(seeds, None)
    path = file or settings.feedback_path
    if not path.exists():
        err(f"error: no feedback file at {path}: nothing has been recorded yet")
        raise typer.Exit(2)
    try:
        records, problems = read_feedback(path)
        documents, _ = read_corpus(settings.seeds_dir)
        known = gold_questions(gold)
    except (OSError, ValueError) as error:
        err(f"error: {error}")
        raise typer.Exit(2) from None
    for problem in problems:
        err(f"skipped {problem}")
    result = export_votes(
        records, texts={d.doc_id: d.text for d in documents}, known_questions=known
    )
    lines = "".join(json_line(c) for c in result.candidates)
    if out is not None:
        out.parent.mkdir(parents=True, exist_ok=True)
        out.write_text(lines, encoding="utf-8")
    else:
        sys.stdout.write(lines)
    for note in result.skipped:
        err(f"skipped {note}")
    if result.misses:
        err(f"\n{len(result.misses)} miss(es) to look at (👎):")
        for miss in result.misses:
            cited = (
                f"{miss.get('doc_id')} sentence {miss.get('sentence_index')}"
                if miss.get("doc_id")
                else "no answer"
            )
            err(f"  - {miss['question']}\n      answer: {miss.get('answer')!r} ({cited})")
    where = f" to {out}" if out is not None else ""
    err(
        f"\n{len(result.candidates)} candidate line(s){where} from {len(records)} vote(s): "
        "review them before adding them to the gold set."
    )
