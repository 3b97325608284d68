"""Device enrolment, the demo device-token shortcut, and admin account/device management."""

from __future__ import annotations

from fastapi import APIRouter, Request, status

from hub import accounts
from hub.errors import ForbiddenError, NotFoundError
from hub.routes.deps import CallerDep, IdPath, Responses, ServiceDep
from protocol.schemas import (
    API_PREFIX,
    DemoDeviceTokenBody,
    DemoDeviceTokenResult,
    EnrolBody,
    EnrolmentCodeBody,
    EnrolmentCodeResult,
    EnrolResult,
    ErrorBody,
    Role,
)

router = APIRouter(prefix=API_PREFIX, tags=["devices and accounts"])
ERRORS: Responses = {code: {"model": ErrorBody} for code in (401, 403, 404, 422)}
LOOPBACK = {"127.0.0.1", "::1", "localhost"}


@router.post("/devices/enrol", response_model=EnrolResult, responses=ERRORS)
def enrol(body: EnrolBody, service: ServiceDep) -> EnrolResult:
    """Exchange the one-time code + warrant number for a device token (no auth)."""
    token, officer = accounts.enrol_device(
        service.db, body.warrant_number, body.code, body.label or ""
    )
    return EnrolResult(device_token=token, officer=officer)


@router.post(
    "/devices/{device_id}/revoke", status_code=status.HTTP_204_NO_CONTENT, responses=ERRORS
)
def revoke_device(device_id: IdPath, caller: CallerDep, service: ServiceDep) -> None:
    """Revoke a device (admin); its token stops working at once."""
    caller.require_operator(Role.ADMIN)
    if accounts.revoke_devices(service.db, device_id=device_id, actor=caller.actor) == 0:
        raise NotFoundError(f"No active device {device_id}")


@router.post("/enrolment-codes", response_model=EnrolmentCodeResult, responses=ERRORS)
def enrolment_code(
    body: EnrolmentCodeBody, caller: CallerDep, service: ServiceDep
) -> EnrolmentCodeResult:
    """A one-time enrolment code for an officer's device (admin)."""
    caller.require_operator(Role.ADMIN)
    ttl = service.settings.enrolment_code_ttl_minutes
    code = accounts.create_enrolment_code(service.db, body.collar_number, ttl, caller.actor)
    return EnrolmentCodeResult(code=code, expires_in_seconds=ttl * 60)


@router.post(
    "/operators/{username}/unlock", status_code=status.HTTP_204_NO_CONTENT, responses=ERRORS
)
def unlock(username: str, caller: CallerDep, service: ServiceDep) -> None:
    """Unlock an account locked after failed sign-ins (admin)."""
    caller.require_operator(Role.ADMIN)
    accounts.unlock_operator(service.db, username, caller.actor)


@router.post("/demo/device-token", response_model=DemoDeviceTokenResult, responses=ERRORS)
def demo_device_token(
    body: DemoDeviceTokenBody, request: Request, service: ServiceDep
) -> DemoDeviceTokenResult:
    """Demo mode + loopback only: a device token for any demo officer (for the simulator)."""
    if not service.settings.demo:
        raise NotFoundError("Not found")
    client = request.client.host if request.client else ""
    if client not in LOOPBACK:
        raise ForbiddenError("The demo device-token endpoint only answers on loopback")
    token = accounts.issue_device_token(
        service.db, body.collar_number, "demo simulator", actor="demo"
    )
    return DemoDeviceTokenResult(device_token=token)
