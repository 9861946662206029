"""Following news feeds: each feed polled every `QA_FEED_INTERVAL` seconds, its new articles
stored through the engine's write path, so they are answerable as soon as they are stored.

A poll is a conditional request (the ETag and Last-Modified the feed last sent): a feed that
has not changed answers 304 and costs no parsing and no page fetch. A changed feed's entries go
through `ingest.import_entries`, with the limits and address checks of `qa add --feed`: links
already stored are not fetched again. The validators are kept only once a poll has gone through
all its entries, so a poll cut short (a failed write, the server stopping) is read again in full.

One thread polls the feeds one after another, so no host ever gets two fetches at once from it;
the next poll of a feed is due after the interval with 10 % jitter either way (feeds set up
together drift apart instead of hitting their hosts in step), and after a failure the wait
doubles with each failure in a row, up to 32 intervals. Stopping cuts a fetch in flight
(`qa.core.cancel`); a write that has begun completes.
"""

from __future__ import annotations

import fcntl
import logging
import random
import threading
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import IO, TYPE_CHECKING, Literal

from qa.core.cancel import Abandoned, abandon_when
from qa.corpus.documents import ArticleError
from qa.corpus.ingest import Validators, import_entries, known_keys, limits, poll_feed
from qa.corpus.seeds import ArticleFile
from qa.engine.updates import IndexUpdateFailed

if TYPE_CHECKING:
    from qa.core.settings import Settings
    from qa.engine.engine import Engine

log = logging.getLogger("qa.feeds")

Result = Literal["ok", "not_modified", "failed"]
JITTER = 0.1
MAX_BACKOFF = 32  # intervals
# The first polls come soon after start, spread over this many seconds at most.
FIRST_POLL_SPREAD = 5.0
MAX_REASONS = 20  # failed links kept per poll for GET /feeds


@dataclass(frozen=True, slots=True)
class Poll:
    """What one poll of a feed did."""

    result: Result
    added: int = 0
    present: int = 0
    failed: int = 0
    error: str | None = None  # why the feed itself could not be read
    reasons: tuple[tuple[str, str], ...] = ()  # (link, why) of the items that failed


@dataclass(frozen=True, slots=True)
class FeedStatus:
    """A feed as GET /feeds and /metrics show it (a snapshot)."""

    url: str
    last_poll: float | None = None  # time.time() of the last poll's end
    last_poll_monotonic: float = 0.0
    last_success: float | None = None  # time.time() of the last poll that was not a failure
    last: Poll | None = None
    polls: dict[str, int] = field(default_factory=lambda: dict.fromkeys(_RESULTS, 0))
    added_total: int = 0
    present_total: int = 0
    failed_total: int = 0
    failures: int = 0  # failed polls in a row
    next_poll: float = 0.0  # time.monotonic() when the next poll is due
    validators: Validators = field(default_factory=Validators)


_RESULTS: tuple[Result, ...] = ("ok", "not_modified", "failed")


class FeedFollower:
    """Polls `feeds` for an engine; `start` runs it in a thread of its own, `stop` ends it."""

    def __init__(
        self,
        settings: Settings,
        feeds: Sequence[str],
        *,
        rng: random.Random | None = None,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.settings = settings
        self.interval = settings.feed_interval
        self.bounds = limits(settings, allow_private=True)  # as `qa add --feed`: see ingest
        self._rng = rng or random.Random()
        self._clock = clock
        now = clock()
        spread = min(FIRST_POLL_SPREAD, self.interval * JITTER)
        self._status = {
            url: FeedStatus(url, next_poll=now + self._rng.uniform(0, spread)) for url in feeds
        }
        self._lock = threading.Lock()  # guards `_status` (read by the HTTP routes)
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self._claim: IO[str] | None = None

    @property
    def feeds(self) -> list[str]:
        return list(self._status)

    def status(self, url: str) -> FeedStatus:
        """The feed's status now."""
        with self._lock:
            return self._status[url]

    def statuses(self) -> list[FeedStatus]:
        """Every feed's status, in the order they were given."""
        with self._lock:
            return list(self._status.values())

    def seconds_to(self, status: FeedStatus) -> float:
        """Seconds from now until `status`'s next poll is due."""
        return status.next_poll - self._clock()

    def start(self, engine: Engine) -> None:
        """Follow the feeds in a background thread (nothing to do without feeds, or when
        another process on the same index folder follows them: one of `--workers`)."""
        if not self._status or self._stop.is_set() or self._thread is not None:
            return
        self._claim = _claim(self.settings.index_dir)
        if self._claim is None:
            log.info("another process on %s follows the feeds", self.settings.index_dir)
            return
        log.info("following %d feed(s) every %g s", len(self._status), self.interval)
        self._thread = threading.Thread(
            target=self._run, args=(engine,), name="qa-feeds", daemon=True
        )
        self._thread.start()

    def stop(self, timeout: float = 5.0) -> None:
        """Stop polling: a fetch in flight is cut, a write that has begun completes."""
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout)
        if self._claim is not None:
            self._claim.close()  # and with it, the lock
            self._claim = None

    def _run(self, engine: Engine) -> None:
        with abandon_when(self._stop.is_set):
            while not self._stop.is_set():
                url, due = min(
                    ((s.url, s.next_poll) for s in self.statuses()), key=lambda pair: pair[1]
                )
                if self._stop.wait(max(0.0, due - self._clock())):
                    return
                try:
                    self.poll(engine, url)
                except Abandoned:
                    return
                except Exception:  # a bug must not end the following of every feed
                    log.exception("feed %s: the poll failed unexpectedly", url)
                    self._record(url, Poll("failed", error="internal error"), None)

    def poll(self, engine: Engine, url: str) -> Poll:
        """Poll the feed at `url` now: store its new articles; record and log what happened."""
        before = self.status(url).validators
        validators = before
        try:
            feed, validators = poll_feed(url, self.bounds, before)
            if feed is None:
                poll = Poll("not_modified")
            else:
                known = known_keys(engine.index.documents)
                found = import_entries(
                    url,
                    feed,
                    self.bounds,
                    known,
                    max_bytes=self.settings.max_article_bytes,
                    store=lambda article: _store(engine, article),
                    progress=log.debug,
                )
                poll = Poll(
                    "ok",
                    len(found.added),
                    len(found.present),
                    len(found.failed),
                    reasons=tuple(found.failed[:MAX_REASONS]),
                )
        except (ArticleError, IndexUpdateFailed) as err:
            poll, validators = Poll("failed", error=str(err)), before
        self._record(url, poll, validators)
        _log(url, poll)
        return poll

    def _record(self, url: str, poll: Poll, validators: Validators | None) -> None:
        now = self._clock()
        with self._lock:
            old = self._status[url]
            failures = old.failures + 1 if poll.result == "failed" else 0
            backoff = min(2 ** (failures - 1), MAX_BACKOFF) if failures else 1
            wait = self.interval * backoff * (1 + self._rng.uniform(-JITTER, JITTER))
            self._status[url] = replace(
                old,
                last_poll=time.time(),
                last_poll_monotonic=now,
                last_success=old.last_success if poll.result == "failed" else time.time(),
                last=poll,
                polls={**old.polls, poll.result: old.polls[poll.result] + 1},
                added_total=old.added_total + poll.added,
                present_total=old.present_total + poll.present,
                failed_total=old.failed_total + poll.failed,
                failures=failures,
                next_poll=now + wait,
                validators=old.validators if validators is None else validators,
            )


def _claim(index_dir: Path) -> IO[str] | None:
    """The feeds lock of `index_dir` (held while the file stays open), or None when another
    process holds it."""
    index_dir.mkdir(parents=True, exist_ok=True)
    handle = (index_dir / ".feeds.lock").open("a")
    try:
        fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except OSError:
        handle.close()
        return None
    return handle


def _store(engine: Engine, article: ArticleFile) -> None:
    """One article through the engine's write path (its locks, the seeds folder, the index)."""
    (outcome,) = engine.write([article])
    log.info("feed article %s %s: %s", outcome.change, outcome.doc_id, article.document.title)


def _log(url: str, poll: Poll) -> None:
    if poll.result == "failed" and poll.error:
        log.warning("feed %s: not read (%s)", url, poll.error)
        return
    if poll.result == "not_modified":
        log.info("feed %s: not modified", url)
        return
    log.info(
        "feed %s: %d added, %d already present, %d failed",
        url,
        poll.added,
        poll.present,
        poll.failed,
    )
    for link, reason in poll.reasons:
        log.warning("feed %s: failed %s: %s", url, link, reason)
