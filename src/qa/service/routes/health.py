"""GET /health: what is being served."""

from __future__ import annotations

from fastapi import APIRouter

from qa.service.auth import Reader
from qa.service.deps import EngineDep
from qa.service.routes.responses import READ_ERRORS
from qa.service.schemas import Health

router = APIRouter()


@router.get("/health", response_model=Health, responses=READ_ERRORS, dependencies=[Reader])
def health(engine: EngineDep) -> Health:
    """What is being served (503 until ready; /livez and /readyz are the probes)."""
    index = engine.index
    return Health(
        status="ok",
        documents=len(index.documents),
        sentences=index.sentence_count,
        model=index.manifest.model.name,
        index_built_at=index.manifest.built_at,
    )
