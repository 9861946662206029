"""GET /livez and /readyz (the probes) and /metrics (Prometheus)."""

from __future__ import annotations

from datetime import UTC, datetime

from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse, Response
from prometheus_client import CONTENT_TYPE_LATEST, generate_latest

from qa.service.auth import AUTH_ERRORS, Reader
from qa.service.deps import MetricsDep
from qa.service.ops_schemas import Live, Ready
from qa.service.schemas import ErrorOut

router = APIRouter(tags=["operations"])


@router.get("/livez", response_model=Live)
def livez() -> Live:
    """The process is up and answering (says nothing about the index)."""
    return Live(status="alive")


@router.get(
    "/readyz",
    response_model=Ready,
    responses={503: {"model": ErrorOut, "description": "Model or index not loaded yet"}},
)
def readyz(request: Request) -> Ready | JSONResponse:
    """200 once the model and index are loaded and questions can be answered, else 503."""
    engine = getattr(request.app.state, "engine", None)
    if engine is None:
        failure = getattr(request.app.state, "load_error", None)
        reason = f"failed: {failure}" if failure else "loading the model and index"
        return JSONResponse(status_code=503, content={"error": f"not ready: {reason}"})
    state = engine.state
    return Ready(
        status="ready",
        documents=len(state.index.documents),
        index_version=state.version,
        index_loaded_at=datetime.fromtimestamp(state.loaded_at, UTC).isoformat(timespec="seconds"),
    )


@router.get(
    "/metrics",
    response_class=Response,
    dependencies=[Reader],
    responses={
        200: {
            "content": {CONTENT_TYPE_LATEST.split(";")[0]: {"schema": {"type": "string"}}},
            "description": "Prometheus text format",
        },
        **AUTH_ERRORS,
    },
)
def metrics_(metrics: MetricsDep) -> Response:
    """Prometheus metrics: requests and latency per route, the index, the process."""
    return Response(generate_latest(metrics.registry), media_type=CONTENT_TYPE_LATEST)
