"""Shared FastAPI dependencies: the service and the authenticated caller."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import Depends, Path, Request
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer

from hub.service import Caller, HubService

_bearer = HTTPBearer(auto_error=False, description="op_… (operator) or dev_… (device) token")


async def get_service(request: Request) -> HubService:
    """The running hub's service object (async: no thread-pool hop for a plain lookup)."""
    service: HubService = request.app.state.hub.service
    return service


def get_caller(
    request: Request,
    credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(_bearer)],
) -> Caller:
    """The authenticated caller, or 401."""
    service: HubService = request.app.state.hub.service
    token = credentials.credentials if credentials else None
    return service.authenticate(token)


ServiceDep = Annotated[HubService, Depends(get_service)]
CallerDep = Annotated[Caller, Depends(get_caller)]


# Ids are 64-bit signed in the database; anything larger is a 422, never an overflow (500).
MAX_ID = 2**63 - 1
IdPath = Annotated[int, Path(ge=1, le=MAX_ID)]

# FastAPI's type for the `responses=` documentation of error bodies.
Responses = dict[int | str, dict[str, Any]]
