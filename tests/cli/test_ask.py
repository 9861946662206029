"""`qa ask` refuses bad filters as usage errors."""

from __future__ import annotations

from typer.testing import CliRunner

from qa.cli import app


def test_ask_refuses_bad_filters(cli: CliRunner) -> None:
    bad_date = cli.invoke(app, ["ask", "--since", "2025-02-30", "What happened?"])
    assert bad_date.exit_code == 2 and "since: Input should be a valid date" in bad_date.output
    unknown = cli.invoke(app, ["ask", "--doc-id", "nope", "What happened?"])
    assert unknown.exit_code == 2 and "unknown doc_ids 'nope'" in unknown.output
