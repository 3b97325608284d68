"""Officer records and photos; the device's own officer; snapshots."""

from __future__ import annotations

from fastapi import APIRouter, Response

from hub.routes.deps import CallerDep, IdPath, Responses, ServiceDep
from protocol.schemas import API_PREFIX, ErrorBody, OfficerView

router = APIRouter(prefix=API_PREFIX, tags=["officers"])
ERRORS: Responses = {code: {"model": ErrorBody} for code in (401, 403, 404)}
IMAGE_RESPONSE: Responses = {200: {"content": {"image/png": {}, "image/jpeg": {}}}}
# Photos and snapshots are personal data: never cached by intermediaries.
NO_STORE = {"Cache-Control": "private, no-store"}


@router.get("/officers/{officer_id}", response_model=OfficerView, responses=ERRORS)
def officer(officer_id: IdPath, caller: CallerDep, service: ServiceDep) -> OfficerView:
    """An officer's record (operators)."""
    return service.officer(caller, officer_id)


@router.get(
    "/officers/{officer_id}/photo", response_class=Response, responses={**ERRORS, **IMAGE_RESPONSE}
)
def officer_photo(officer_id: IdPath, caller: CallerDep, service: ServiceDep) -> Response:
    """The photo on file (operators)."""
    if caller.kind != "operator":
        caller.require_operator()
    data, mime = service.officer_photo(caller, officer_id)
    return Response(data, media_type=mime, headers=NO_STORE)


@router.get("/device/me", response_model=OfficerView, responses=ERRORS)
def device_me(caller: CallerDep, service: ServiceDep) -> OfficerView:
    """The device's own officer."""
    return service.device_officer(caller)


@router.get("/device/photo", response_class=Response, responses={**ERRORS, **IMAGE_RESPONSE})
def device_photo(caller: CallerDep, service: ServiceDep) -> Response:
    """The device's own officer's photo."""
    caller.require_device()
    data, mime = service.officer_photo(caller)
    return Response(data, media_type=mime, headers=NO_STORE)


@router.get(
    "/snapshots/{snapshot_id}", response_class=Response, responses={**ERRORS, **IMAGE_RESPONSE}
)
def snapshot(snapshot_id: IdPath, caller: CallerDep, service: ServiceDep) -> Response:
    """A snapshot image (operators)."""
    data, mime = service.snapshot_image(caller, snapshot_id)
    return Response(data, media_type=mime, headers=NO_STORE)
