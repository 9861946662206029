"""The dependencies read each app's own state; the engine's is 503 until it is loaded."""

from __future__ import annotations

from collections.abc import Coroutine
from types import SimpleNamespace
from typing import Any

import pytest
from fastapi import HTTPException

from qa.service import deps


def run(coroutine: Coroutine[Any, Any, Any]) -> Any:
    """Drive a coroutine that never suspends (the getters only read state) to its result.

    Not `asyncio.run`: in the full suite an earlier test (Playwright's sync API) can leave an
    event loop running in this thread, and `asyncio.run` refuses to start inside one."""
    try:
        coroutine.send(None)
    except StopIteration as done:
        return done.value
    coroutine.close()
    raise AssertionError("the getter suspended; it should only read the app's state")


def request(**state: Any) -> Any:
    return SimpleNamespace(app=SimpleNamespace(state=SimpleNamespace(**state)))


def test_the_engine_is_503_while_loading() -> None:
    with pytest.raises(HTTPException) as info:
        run(deps.get_engine(request()))
    assert info.value.status_code == 503 and "still loading" in info.value.detail


def test_the_engine_is_503_naming_the_failure_after_a_failed_load() -> None:
    with pytest.raises(HTTPException) as info:
        run(deps.get_engine(request(load_error="disk on fire")))
    assert info.value.status_code == 503
    assert info.value.detail == "the index could not be loaded: disk on fire"


def test_each_getter_returns_its_apps_own_object() -> None:
    engine, settings, turns, writes, log, metrics = (object() for _ in range(6))
    state = request(
        engine=engine,
        settings=settings,
        question_turns=turns,
        write_turns=writes,
        feedback_log=log,
        metrics=metrics,
    )
    got = [
        run(getter(state))
        for getter in (
            deps.get_engine,
            deps.get_settings,
            deps.question_turns,
            deps.write_turns,
            deps.get_feedback_log,
            deps.get_metrics,
        )
    ]
    assert got == [engine, settings, turns, writes, log, metrics]
