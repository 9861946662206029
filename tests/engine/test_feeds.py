"""Following feeds: polls with conditional requests, new articles stored and answerable at once,
failures backed off; on the news site served on loopback, with the fake embedder."""

from __future__ import annotations

import pytest

from qa.core.settings import Settings
from qa.engine.engine import Engine
from qa.engine.feeds import FeedFollower
from tests.conftest import FakeEmbedder
from tests.news_site import NewsSite


@pytest.fixture
def engine(settings: Settings) -> Engine:
    return Engine.open(settings, embedder=FakeEmbedder())[0]


def story_ids(engine: Engine) -> set[str]:
    return {d for d in engine.index.doc_pos if d.startswith("story-")}


def test_a_feed_that_gains_an_article_between_two_polls(
    engine: Engine, settings: Settings, keepalive_site: NewsSite
) -> None:
    site = keepalive_site
    url = site.url("/live.xml")
    site.live[:] = ["a1", "a2"]
    follower = FeedFollower(settings, [url])
    first = follower.poll(engine, url)
    assert (first.result, first.added, first.present, first.failed) == ("ok", 2, 0, 0)
    assert len(story_ids(engine)) == 2
    # Unchanged: a 304, and no article page fetched.
    site.paths.clear()
    second = follower.poll(engine, url)
    assert second.result == "not_modified" and site.not_modified == 1
    assert site.paths == ["/live.xml"]
    # One new story: only its page is fetched, and it is answerable as soon as the poll ends.
    site.live.append("zq7")
    site.paths.clear()
    before = story_ids(engine)
    third = follower.poll(engine, url)
    assert (third.result, third.added, third.present) == ("ok", 1, 2)
    assert site.paths == ["/live.xml", "/article/story"]
    (new,) = story_ids(engine) - before
    answer = engine.ask("What does the full report of story zq7 say?", top_k=5)
    assert new in {c.doc_id for c in answer.citations}
    status = follower.status(url)
    assert status.polls == {"ok": 2, "not_modified": 1, "failed": 0}
    assert (status.added_total, status.last_success is not None) == (3, True)


def test_a_failing_feed_is_backed_off_and_its_reason_kept(
    engine: Engine, settings: Settings, news_site: NewsSite
) -> None:
    url = news_site.url("/missing-feed.xml")
    follower = FeedFollower(settings.model_copy(update={"feed_interval": 100.0}), [url])
    waits = []
    for _ in range(3):
        result = follower.poll(engine, url)
        assert result.result == "failed" and "HTTP 404" in (result.error or "")
        waits.append(follower.status(url).next_poll - follower.status(url).last_poll_monotonic)
    # Each failure doubles the wait (jitter aside: at most 10 % either way).
    assert 90 <= waits[0] <= 110 * 2 and waits[1] > waits[0] * 1.5 and waits[2] > waits[1] * 1.5


def test_one_process_per_index_folder_follows_and_stop_ends_the_thread(
    engine: Engine, settings: Settings, news_site: NewsSite
) -> None:
    url = news_site.url("/rss.xml")
    first, second = FeedFollower(settings, [url]), FeedFollower(settings, [url])
    first.start(engine)
    second.start(engine)  # another worker on the same index folder: it leaves the feeds be
    try:
        assert first._thread is not None and first._thread.is_alive()
        assert second._thread is None
    finally:
        first.stop()
        second.stop()
    assert not first._thread.is_alive()
    third = FeedFollower(settings, [url])  # the lock went with the first follower
    third.start(engine)
    third.stop()
    assert third._thread is not None and not third._thread.is_alive()
