"""Dependencies shared by the route modules, as `Annotated` aliases.

Each app keeps its own settings, engine and limits on `app.state` (set by `create_app`), so two
apps in one process (tests) share nothing. The getters are `async`: FastAPI would run a plain
`def` dependency in a worker thread, a hop every request would pay.
"""

from __future__ import annotations

from typing import Annotated

import anyio
from fastapi import Depends, HTTPException, Request

from qa.core.settings import Settings
from qa.engine.engine import Engine
from qa.service.feedback import FeedbackLog
from qa.service.ops import Metrics


async def get_engine(request: Request) -> Engine:
    """The engine, or 503 while the model and index are loading (or could not be)."""
    engine: Engine | None = getattr(request.app.state, "engine", None)
    if engine is None:
        failure = getattr(request.app.state, "load_error", None)
        if failure:
            raise HTTPException(503, f"the index could not be loaded: {failure}")
        raise HTTPException(503, "the index is still loading; try again in a few seconds")
    return engine


async def get_settings(request: Request) -> Settings:
    """The app's settings."""
    settings: Settings = request.app.state.settings
    return settings


async def question_turns(request: Request) -> anyio.CapacityLimiter:
    """How many questions may be answered at once (one per core)."""
    limiter: anyio.CapacityLimiter = request.app.state.question_turns
    return limiter


async def write_turns(request: Request) -> anyio.CapacityLimiter:
    """How many writes may run at once (one)."""
    limiter: anyio.CapacityLimiter = request.app.state.write_turns
    return limiter


async def fetch_turns(request: Request) -> anyio.CapacityLimiter:
    """How many pages may be fetched at once (their own threads, not the read routes')."""
    limiter: anyio.CapacityLimiter = request.app.state.fetch_turns
    return limiter


async def get_feedback_log(request: Request) -> FeedbackLog:
    """The feedback file (`QA_FEEDBACK_PATH`)."""
    feedback: FeedbackLog = request.app.state.feedback_log
    return feedback


async def get_metrics(request: Request) -> Metrics:
    """The app's Prometheus metrics."""
    metrics: Metrics = request.app.state.metrics
    return metrics


EngineDep = Annotated[Engine, Depends(get_engine)]
SettingsDep = Annotated[Settings, Depends(get_settings)]
QuestionTurns = Annotated[anyio.CapacityLimiter, Depends(question_turns)]
WriteTurns = Annotated[anyio.CapacityLimiter, Depends(write_turns)]
FeedbackLogDep = Annotated[FeedbackLog, Depends(get_feedback_log)]
MetricsDep = Annotated[Metrics, Depends(get_metrics)]
