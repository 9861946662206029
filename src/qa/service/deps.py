"""Dependencies shared by the route modules, as `Annotated` aliases."""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends, HTTPException, Request

from qa.service.engine import Engine


def get_engine(request: Request) -> Engine:
    """The engine, or 503 while the model and index are loading (or could not be)."""
    engine: Engine | None = getattr(request.app.state, "engine", None)
    if engine is None:
        failure = getattr(request.app.state, "load_error", None)
        if failure:
            raise HTTPException(503, f"the index could not be loaded: {failure}")
        raise HTTPException(503, "the index is still loading; try again in a few seconds")
    return engine


EngineDep = Annotated[Engine, Depends(get_engine)]
