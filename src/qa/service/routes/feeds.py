"""GET /feeds: the feeds the server follows, and what their last poll did."""

from __future__ import annotations

from datetime import UTC, datetime

from fastapi import APIRouter, Request

from qa.engine.feeds import FeedFollower, FeedStatus
from qa.service.auth import AUTH_ERRORS, Reader
from qa.service.ops_schemas import FeedFailure, FeedOut

router = APIRouter(tags=["feeds"])


@router.get("/feeds", response_model=list[FeedOut], responses=AUTH_ERRORS, dependencies=[Reader])
def feeds(request: Request) -> list[FeedOut]:
    """Each followed feed with its last poll's time and result (in the order configured)."""
    follower: FeedFollower = request.app.state.feeds
    return [feed_out(s, follower.seconds_to(s)) for s in follower.statuses()]


def feed_out(status: FeedStatus, next_poll_in: float) -> FeedOut:
    """The API's view of one feed's status."""
    last = status.last
    return FeedOut(
        url=status.url,
        last_poll=_iso(status.last_poll),
        last_success=_iso(status.last_success),
        next_poll_in=round(max(0.0, next_poll_in), 3),
        result=last.result if last else None,
        added=last.added if last else 0,
        present=last.present if last else 0,
        failed=last.failed if last else 0,
        error=last.error if last else None,
        failures=[FeedFailure(link=k, reason=r) for k, r in (last.reasons if last else ())],
        polls=sum(status.polls.values()),
    )


def _iso(stamp: float | None) -> str | None:
    return (
        None if stamp is None else datetime.fromtimestamp(stamp, UTC).isoformat(timespec="seconds")
    )
