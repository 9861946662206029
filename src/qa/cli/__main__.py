"""`python -m qa.cli`: the same command line as `qa`."""

from qa.cli import app

app()
