"""`qa add` with URLs, .html files and --feed; `qa ask` with filters (fake embedder)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

from qa.cli import app
from qa.core.settings import Settings
from qa.embed.loader import ModelLoader
from tests.conftest import FakeEmbedder
from tests.corpus.test_seeds import assert_consistent
from tests.news_site import DATA, NewsSite


@pytest.fixture
def cli(settings: Settings, monkeypatch: pytest.MonkeyPatch) -> CliRunner:
    fake = FakeEmbedder()
    monkeypatch.setattr(ModelLoader, "get", lambda self: fake)
    monkeypatch.setattr(
        ModelLoader, "weights_sha256", property(lambda self: fake.fingerprint.weights_sha256)
    )
    monkeypatch.setenv("QA_SEEDS_DIR", str(settings.seeds_dir))
    monkeypatch.setenv("QA_INDEX_DIR", str(settings.index_dir))
    return CliRunner()


def test_add_feed_adds_new_articles_and_rerunning_adds_nothing(
    cli: CliRunner, settings: Settings, news_site: NewsSite
) -> None:
    first = cli.invoke(app, ["add", "--feed", news_site.url("/rss.xml")])
    assert first.exit_code == 1  # one item of the feed is gone (404)
    assert f"reading feed {news_site.url('/rss.xml')}" in first.stderr
    assert "new              harbour-bridge-reopens-after-two-year-" in first.stderr
    assert f"failed           {news_site.url('/missing-story')}: " in first.stderr
    assert "HTTP 404" in first.stderr
    assert "created harbour-bridge-reopens-after-two-year-" in first.stdout
    assert f"feed {news_site.url('/rss.xml')}: 2 added, 0 already present, 1 failed" in first.stdout
    files = sorted(p.name for p in settings.seeds_dir.iterdir())
    second = cli.invoke(app, ["add", "--feed", news_site.url("/rss.xml")])
    assert f"feed {news_site.url('/rss.xml')}: 0 added, 2 already present, 1 failed" in (
        second.stdout
    )
    assert "created" not in second.stdout and "replaced" not in second.stdout
    assert sorted(p.name for p in settings.seeds_dir.iterdir()) == files
    # Atom links the heatwave page too: it is already there, only the new ECB story is added.
    third = cli.invoke(app, ["add", "--feed", news_site.url("/atom.xml")])
    assert third.exit_code == 0, third.output
    assert f"feed {news_site.url('/atom.xml')}: 1 added, 1 already present, 0 failed" in (
        third.stdout
    )
    assert_consistent(settings)


def test_add_url_and_html_file_then_ask_with_filters(
    cli: CliRunner, settings: Settings, news_site: NewsSite, tmp_path: Path
) -> None:
    page = tmp_path / "heat.html"
    page.write_bytes((DATA / "heatwave.html").read_bytes())
    result = cli.invoke(
        app, ["add", news_site.url("/markets/ecb-holds-rates"), str(page), news_site.url("/empty")]
    )
    assert result.exit_code == 1
    assert "created heat (3 sentences): Spain records its hottest June night" in result.stdout
    assert f"not added: {news_site.url('/empty')}: " in result.stderr
    question = "What did the European Central Bank do with its deposit rate?"
    asked = cli.invoke(app, ["ask", "--json", "--top-k", "5", question])
    ecb = json.loads(asked.stdout)["citations"][0]
    assert (ecb["source"], ecb["published"]) == ("Daily Ledger", "2025-01-30")
    assert ecb["url"] == "https://ledger.example.org/markets/ecb-holds-rates"
    only_heat = cli.invoke(app, ["ask", "--json", "--top-k", "5", "--doc-id", "heat", question])
    assert {c["doc_id"] for c in json.loads(only_heat.stdout)["citations"]} == {"heat"}
    june = cli.invoke(
        app, ["ask", "--json", "--since", "2025-06-01", "--until", "2025-06-30", question]
    )
    assert {c["doc_id"] for c in json.loads(june.stdout)["citations"]} == {"heat"}
    text = cli.invoke(app, ["ask", "--doc-id", "heat", question])
    assert "Spain records its hottest June night — Iberia Weekly, 2025-06-28" in text.stdout


def test_ask_refuses_bad_filters(cli: CliRunner) -> None:
    bad_date = cli.invoke(app, ["ask", "--since", "2025-02-30", "What happened?"])
    assert bad_date.exit_code == 2 and "since: Input should be a valid date" in bad_date.output
    unknown = cli.invoke(app, ["ask", "--doc-id", "nope", "What happened?"])
    assert unknown.exit_code == 2 and "unknown doc_ids 'nope'" in unknown.output


def test_add_needs_something_to_add(cli: CliRunner) -> None:
    result = cli.invoke(app, ["add"])
    assert result.exit_code == 2 and "give files or URLs to add, or --feed URL" in result.output


def test_add_feed_that_is_not_a_feed_is_reported(cli: CliRunner, news_site: NewsSite) -> None:
    result = cli.invoke(app, ["add", "--feed", news_site.url("/markets/ecb-holds-rates")])
    assert result.exit_code == 1
    assert "feed not read: " in result.stderr and "not an RSS or Atom feed" in result.stderr
