"""Giving up on work nobody waits for: a write whose client has gone, a server shutting down.

Splitting and embedding a large article takes CPU time in a worker thread, which cannot be
killed. The code that does it calls `checkpoint()` between bounded steps (a window of text, a
batch of texts); the HTTP layer runs it under `abandon_when(event.is_set)` and sets the event
when the client disconnects or the request is cancelled, so the next step raises `Abandoned`.
The check travels in a context variable, which anyio copies into its worker threads, so the
layers in between need no extra argument.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from contextvars import ContextVar

from qa.core.errors import QAError

_check: ContextVar[Callable[[], bool] | None] = ContextVar("qa_abandon_check", default=None)


class Abandoned(QAError, RuntimeError):
    """The work was given up between two steps; nothing after the last step was done."""


def checkpoint() -> None:
    """Raise `Abandoned` if the work running in this context has been given up."""
    check = _check.get()
    if check is not None and check():
        raise Abandoned("the request was abandoned (client gone or server stopping)")


def abandon_check() -> Callable[[], bool] | None:
    """The check `checkpoint()` makes in this context, for a helper thread to poll (a thread
    started by hand does not inherit the context)."""
    return _check.get()


@contextmanager
def abandon_when(check: Callable[[], bool] | None) -> Iterator[None]:
    """Within the block (and in worker threads started from it), `checkpoint()` raises once
    `check()` is true; None makes the block run to the end whatever happens."""
    token = _check.set(check)
    try:
        yield
    finally:
        _check.reset(token)
