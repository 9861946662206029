"""`qa serve` following feeds: GET /feeds, /metrics, and a new article answerable over HTTP."""

from __future__ import annotations

import time

import httpx

from qa.core.settings import Settings
from qa.engine.engine import Engine
from tests.conftest import FakeEmbedder, serve_app
from tests.news_site import NewsSite
from tests.service.test_ops import metric


def wait_for_poll(base: str, polls: int, seconds: float = 20.0) -> dict[str, object]:
    deadline = time.monotonic() + seconds
    while True:
        (feed,) = httpx.get(f"{base}/feeds").json()
        if feed["polls"] >= polls:
            return dict(feed)
        assert time.monotonic() < deadline, f"no poll {polls} in time: {feed}"
        time.sleep(0.05)


def test_the_server_follows_its_feeds(settings: Settings, keepalive_site: NewsSite) -> None:
    site = keepalive_site
    url = site.url("/live.xml")
    site.live[:] = ["a1"]
    settings = settings.model_copy(update={"feeds": [url], "feed_interval": 1.0})
    engine, _ = Engine.open(settings, embedder=FakeEmbedder())
    with serve_app(settings, engine) as base:
        first = wait_for_poll(base, 1)
        assert (first["url"], first["result"], first["added"]) == (url, "ok", 1)
        assert first["last_poll"] and first["last_success"]
        second = wait_for_poll(base, 2)
        assert second["result"] == "not_modified" and site.not_modified >= 1
        site.live.append("zq7")
        polls = int(second["polls"])  # type: ignore[call-overload]
        third = wait_for_poll(base, polls + 1)
        while third["result"] == "not_modified":  # the story came just after a poll
            third = wait_for_poll(base, int(third["polls"]) + 1)  # type: ignore[call-overload]
        assert (third["result"], third["added"], third["present"]) == ("ok", 1, 1)
        asked = httpx.post(
            f"{base}/ask", json={"question": "What is the report of story zq7?", "top_k": 5}
        ).json()
        assert any("zq7" in c["doc_id"] or "zq7" in c["text"] for c in asked["citations"])
        text = httpx.get(f"{base}/metrics").text
        assert metric(text, "qa_feed_polls_total", feed=url, result="ok") == 2
        assert metric(text, "qa_feed_polls_total", feed=url, result="not_modified") >= 1
        assert metric(text, "qa_feed_articles_added_total", feed=url) == 2
        assert metric(text, "qa_feed_last_success_timestamp_seconds", feed=url) > 1e9
    assert engine.settings.feeds == [url]
