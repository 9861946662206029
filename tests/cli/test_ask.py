"""`qa ask` refuses bad filters as usage errors."""

from __future__ import annotations

import json

from typer.testing import CliRunner

from qa.cli import app


def test_ask_refuses_bad_filters(cli: CliRunner) -> None:
    bad_date = cli.invoke(app, ["ask", "--since", "2025-02-30", "What happened?"])
    assert bad_date.exit_code == 2 and "since: Input should be a valid date" in bad_date.output
    unknown = cli.invoke(app, ["ask", "--doc-id", "nope", "What happened?"])
    assert unknown.exit_code == 2 and "unknown doc_ids 'nope'" in unknown.output


def test_ask_with_history_answers_a_follow_up_as_the_chat_would(cli: CliRunner) -> None:
    question = "When will it happen?"
    previous = "Where will the semiconductor factories open?"
    alone = cli.invoke(app, ["ask", "--json", question])
    follow = cli.invoke(app, ["ask", "--json", "--history", previous, question])
    assert alone.exit_code == follow.exit_code == 0, follow.output
    assert json.loads(alone.stdout)["interpreted_as"] is None
    body = json.loads(follow.stdout)
    assert body["interpreted_as"] == f"{question} (about: semiconductor factories open)"
    assert body["citations"][0]["doc_id"] == "chips"
    text = cli.invoke(app, ["ask", "--history", previous, question])
    assert "(read as: When will it happen? (about: semiconductor factories open))" in text.output
    too_many = cli.invoke(app, ["ask", *["--history", previous] * 6, question])
    assert too_many.exit_code == 2 and "history" in too_many.output
