"""Bearer tokens: writes need `QA_API_TOKEN`; reads need `QA_READ_TOKEN` when one is set.

Status codes: 401 when the `Authorization: Bearer <token>` header is missing or malformed (with
`WWW-Authenticate: Bearer`), 403 when the token is wrong, and 403 for every write while no
`QA_API_TOKEN` is configured (writes are off by default).

The checks are `async` although they never wait: FastAPI runs a plain `def` dependency in a
worker thread, a thread hop (and a wait for the GIL) that every request would pay.
"""

from __future__ import annotations

import hashlib
import hmac
from typing import Annotated, Any

from fastapi import Depends, HTTPException, Request
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer

from qa.core.settings import Settings
from qa.service.schemas import ErrorOut

# Declares the scheme in the OpenAPI document; the checks below give the messages.
_bearer = HTTPBearer(auto_error=False, description="`Authorization: Bearer <token>`")
Credentials = Annotated[HTTPAuthorizationCredentials | None, Depends(_bearer)]

AUTH_ERRORS: dict[int | str, dict[str, Any]] = {
    401: {"model": ErrorOut, "description": "No `Authorization: Bearer <token>` header"},
    403: {"model": ErrorOut, "description": "Wrong token, or writes are not enabled"},
}


def _settings(request: Request) -> Settings:
    settings: Settings = request.app.state.settings
    return settings


def _token(request: Request, credentials: HTTPAuthorizationCredentials | None, what: str) -> str:
    if credentials is None or not credentials.credentials.strip():
        sent = "a malformed" if "authorization" in request.headers else "no"
        raise HTTPException(
            401,
            f"{what} need a token: send `Authorization: Bearer <token>` ({sent} header was sent)",
            headers={"WWW-Authenticate": "Bearer"},
        )
    return credentials.credentials.strip()


def matches(token: str, *expected: str | None) -> bool:
    """Whether `token` equals one of `expected`, in time independent of where they differ."""
    # Digests first, so the comparison does not even reveal the tokens' lengths.
    given = hashlib.sha256(token.encode("utf-8", "surrogatepass")).digest()
    found = False
    for candidate in expected:
        if candidate is not None:
            digest = hashlib.sha256(candidate.encode("utf-8")).digest()
            found |= hmac.compare_digest(given, digest)
    return found


async def require_writer(request: Request, credentials: Credentials) -> None:
    """Writes: the API token, and no writes at all while none is configured."""
    settings = _settings(request)
    if settings.api_token is None:
        raise HTTPException(
            403, "writes are disabled on this server; set QA_API_TOKEN to enable writes"
        )
    if not matches(_token(request, credentials, "writes"), settings.api_token):
        raise HTTPException(403, "wrong token: writes need the token in QA_API_TOKEN")


async def require_reader(request: Request, credentials: Credentials) -> None:
    """Reads: open unless QA_READ_TOKEN is set; then it or the API token."""
    settings = _settings(request)
    if settings.read_token is None:
        return
    token = _token(request, credentials, "reads on this server")
    if not matches(token, settings.read_token, settings.api_token):
        raise HTTPException(403, "wrong token: reads need the token in QA_READ_TOKEN")


Writer = Depends(require_writer)
Reader = Depends(require_reader)
