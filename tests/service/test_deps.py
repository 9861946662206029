"""The dependencies read each app's own state; the engine's is 503 until it is loaded."""

from __future__ import annotations

import asyncio
from types import SimpleNamespace
from typing import Any

import pytest
from fastapi import HTTPException

from qa.service import deps


def request(**state: Any) -> Any:
    return SimpleNamespace(app=SimpleNamespace(state=SimpleNamespace(**state)))


def test_the_engine_is_503_while_loading() -> None:
    with pytest.raises(HTTPException) as info:
        asyncio.run(deps.get_engine(request()))
    assert info.value.status_code == 503 and "still loading" in info.value.detail


def test_the_engine_is_503_naming_the_failure_after_a_failed_load() -> None:
    with pytest.raises(HTTPException) as info:
        asyncio.run(deps.get_engine(request(load_error="disk on fire")))
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
        asyncio.run(getter(state))
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
