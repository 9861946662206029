"""`qa index`, `qa add` (files, web pages and feeds) and `qa remove`, on the fake embedder."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
from pathlib import Path

from typer.testing import CliRunner

from qa.cli import app
from qa.core.settings import Settings
from tests.corpus.test_seeds import assert_consistent
from tests.news_site import DATA, NewsSite

ROOT = Path(__file__).resolve().parents[2]


def test_add_stores_and_indexes_and_reports_bad_files(
    cli: CliRunner, settings: Settings, tmp_path: Path
) -> None:
    good = tmp_path / "zebra.txt"
    good.write_text("Zebras crossed the road in Nairobi.")
    binary = tmp_path / "photo.txt"
    binary.write_bytes(b"\x89PNG\x00\x00")
    wrong = tmp_path / "notes.pdf"
    wrong.write_bytes(b"%PDF")
    result = cli.invoke(
        app, ["add", str(good), str(binary), str(wrong), str(tmp_path / "gone.txt")]
    )
    assert result.exit_code == 1
    assert "created zebra (1 sentences)" in result.stdout
    assert "photo.txt" in result.stderr and "binary" in result.stderr
    assert "notes.pdf" in result.stderr and "gone.txt" in result.stderr
    assert "3 file(s), page(s) or feed item(s) not added" in result.stderr
    assert (settings.seeds_dir / "zebra.txt").read_text() == good.read_text()
    assert_consistent(settings)
    good.write_text("Zebras crossed the road in Mombasa.")
    result = cli.invoke(app, ["add", str(good)])
    assert result.exit_code == 0 and "replaced zebra" in result.stdout


def test_remove(cli: CliRunner, settings: Settings) -> None:
    result = cli.invoke(app, ["remove", "quad", "nope", "../etc/passwd"])
    assert result.exit_code == 1
    assert "removed quad" in result.stdout
    assert "no article with doc_id 'nope'" in result.stderr
    assert "not allowed" in result.stderr
    assert not (settings.seeds_dir / "quad.txt").exists()
    assert_consistent(settings)


def test_index_reports_each_bad_file_and_indexes_the_rest(
    cli: CliRunner, settings: Settings
) -> None:
    (settings.seeds_dir / "binary.txt").write_bytes(b"\x00\x01\x02")
    (settings.seeds_dir / "latin.md").write_bytes("café".encode("latin-1"))
    (settings.seeds_dir / "empty.txt").write_text("   ")
    strict = cli.invoke(app, ["index", "--strict"])
    assert strict.exit_code == 1
    for name in ("binary.txt", "latin.md", "empty.txt"):
        assert name in strict.stderr
    assert not (settings.index_dir / "current").exists()
    result = cli.invoke(app, ["index"])
    assert result.exit_code == 0, result.stderr
    assert "indexed 2 articles" in result.stdout
    for name in ("binary.txt", "latin.md", "empty.txt"):
        assert name in result.stderr


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
    # The page declares https://ledger.example.org/...: another site's URL, so not taken.
    assert ecb["url"] == news_site.url("/markets/ecb-holds-rates")
    only_heat = cli.invoke(app, ["ask", "--json", "--top-k", "5", "--doc-id", "heat", question])
    assert {c["doc_id"] for c in json.loads(only_heat.stdout)["citations"]} == {"heat"}
    june = cli.invoke(
        app, ["ask", "--json", "--since", "2025-06-01", "--until", "2025-06-30", question]
    )
    assert {c["doc_id"] for c in json.loads(june.stdout)["citations"]} == {"heat"}
    text = cli.invoke(app, ["ask", "--doc-id", "heat", question])
    assert "Spain records its hottest June night — Iberia Weekly, 2025-06-28" in text.stdout


def test_add_needs_something_to_add(cli: CliRunner) -> None:
    result = cli.invoke(app, ["add"])
    assert result.exit_code == 2 and "give files or URLs to add, or --feed URL" in result.output


def test_add_feed_that_is_not_a_feed_is_reported(cli: CliRunner, news_site: NewsSite) -> None:
    result = cli.invoke(app, ["add", "--feed", news_site.url("/markets/ecb-holds-rates")])
    assert result.exit_code == 1
    assert "feed not read: " in result.stderr and "not an RSS or Atom feed" in result.stderr


def test_add_feed_does_not_fetch_private_addresses_the_feed_names(
    cli: CliRunner, news_site: NewsSite
) -> None:
    result = cli.invoke(app, ["add", "--feed", news_site.url("/mixed.xml")])
    assert result.exit_code == 1
    other = f"http://127.0.0.2:{news_site.port}/markets/ecb-holds-rates"
    assert f"failed           {other}: " in result.stderr
    assert "non-public address" in result.stderr
    assert "1 added, 0 already present, 1 failed" in result.stdout


# `qa add` in a process of its own, on the fake embedder, without the reader.
_ADD_CHILD = """
import sys
from qa.embed.loader import ModelLoader
from tests.conftest import FakeEmbedder
fake = FakeEmbedder()
ModelLoader.get = lambda self: fake
ModelLoader.weights_sha256 = property(lambda self: fake.fingerprint.weights_sha256)
from qa.cli import app
app(sys.argv[1:])
"""


def test_add_feed_killed_midway_keeps_what_it_stored_and_a_rerun_adds_the_rest(
    cli: CliRunner, settings: Settings, news_site: NewsSite
) -> None:
    feed = news_site.url("/stories.xml")
    arrived, release = news_site.hold("/article/story?t=41")  # the third of four stories
    env = {
        **os.environ,
        "QA_SEEDS_DIR": str(settings.seeds_dir),
        "QA_INDEX_DIR": str(settings.index_dir),
        "QA_READER_CANDIDATES": "0",
        "PYTHONPATH": os.pathsep.join([str(ROOT / "src"), str(ROOT)]),
    }
    child = subprocess.Popen(
        [sys.executable, "-c", _ADD_CHILD, "add", "--feed", feed],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
    )
    try:
        assert arrived.wait(120), "the import never reached the third story"
        child.kill()  # SIGKILL while the third page is being fetched
        _, stderr = child.communicate(timeout=30)
    finally:
        release.set()
        if child.poll() is None:
            child.kill()
    assert child.returncode == -signal.SIGKILL, stderr.decode()
    stored = sorted(p.name for p in settings.seeds_dir.iterdir() if p.name.startswith("story-"))
    assert len(stored) == 2, stored  # the two stories fetched before the kill
    news_site.paths.clear()
    rerun = cli.invoke(app, ["add", "--feed", feed])
    assert rerun.exit_code == 0, rerun.output
    assert f"feed {feed}: 2 added, 2 already present, 0 failed" in rerun.stdout
    # Only the feed and the two stories not stored yet were fetched.
    assert sorted(news_site.paths) == ["/article/story", "/article/story", "/stories.xml"]
    assert len([p for p in settings.seeds_dir.iterdir() if p.name.startswith("story-")]) == 4
    assert_consistent(settings)
