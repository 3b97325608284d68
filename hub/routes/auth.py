"""Operator sign-in/out, who-am-I, and the hub configuration."""

from __future__ import annotations

from fastapi import APIRouter, status

from hub.routes.deps import CallerDep, Responses, ServiceDep
from protocol.schemas import API_PREFIX, ErrorBody, HubConfig, LoginBody, LoginResult, OperatorView

router = APIRouter(prefix=API_PREFIX, tags=["auth"])
ERRORS: Responses = {
    401: {"model": ErrorBody},
    403: {"model": ErrorBody},
    423: {"model": ErrorBody},
}


@router.post("/auth/login", response_model=LoginResult, responses=ERRORS)
def login(body: LoginBody, service: ServiceDep) -> LoginResult:
    """Operator sign-in: `{token, expires_at, operator}`; 423 once locked."""
    return service.login(body.username, body.password)


@router.post("/auth/logout", status_code=status.HTTP_204_NO_CONTENT, responses=ERRORS)
def logout(caller: CallerDep, service: ServiceDep) -> None:
    """Revoke the calling operator token."""
    service.logout(caller)


@router.get("/auth/me", response_model=OperatorView, responses=ERRORS)
def me(caller: CallerDep, service: ServiceDep) -> OperatorView:
    """The signed-in operator."""
    return service.me(caller)


@router.get("/config", response_model=HubConfig, responses=ERRORS)
def config(caller: CallerDep, service: ServiceDep) -> HubConfig:
    """ICE servers, lease and expiry times, server time (operators and devices)."""
    return service.config()
