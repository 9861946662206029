"""OpenAPI descriptions of the error responses the read routes share."""

from __future__ import annotations

from typing import Any

from qa.service.auth import AUTH_ERRORS
from qa.service.schemas import ErrorOut

ERRORS: dict[int | str, dict[str, Any]] = {
    404: {"model": ErrorOut, "description": "Not found"},
    422: {"model": ErrorOut, "description": "Invalid input"},
}
READ_ERRORS: dict[int | str, dict[str, Any]] = {
    **AUTH_ERRORS,
    413: {"model": ErrorOut, "description": "Request body too large"},
    503: {"model": ErrorOut, "description": "The model and index are still loading"},
}
