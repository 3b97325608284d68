"""The verification request lifecycle: device side and operator (holder) side."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Header, Query, Request, status

from hub.claim_gate import ClaimGate
from hub.errors import InvalidRequestError, UnsupportedMediaTypeError
from hub.routes.deps import (
    BEARER_SCHEME,
    CallerDep,
    IdPath,
    Responses,
    ServiceDep,
    WriterDep,
    bearer_token,
    run_quick_read,
)
from hub.service import HubService, image_mime
from hub.writer import Writer
from protocol.schemas import (
    API_PREFIX,
    AnswerBody,
    ClaimResult,
    CreateRequestBody,
    DecisionBody,
    DeviceRequestView,
    ErrorBody,
    FailBody,
    OfferBody,
    RequestDetail,
    RequestView,
    SnapshotView,
)

router = APIRouter(prefix=API_PREFIX, tags=["requests"])
ERRORS: Responses = {code: {"model": ErrorBody} for code in (401, 403, 404, 409, 422)}
SNAPSHOT_TYPES = ("image/jpeg", "image/png")


# --------------------------------------------------------------------------- device


@router.post(
    "/requests",
    response_model=DeviceRequestView,
    status_code=status.HTTP_201_CREATED,
    responses=ERRORS,
)
async def create_request(
    body: CreateRequestBody, caller: CallerDep, service: ServiceDep, writer: WriterDep
) -> DeviceRequestView:
    """A device calls in with its complete SDP offer; 409 `already_active` if it has one open."""
    return await writer.run(service.create_request, caller, body)


@router.get("/requests/{request_id}/device", response_model=DeviceRequestView, responses=ERRORS)
def device_request(request_id: IdPath, caller: CallerDep, service: ServiceDep) -> DeviceRequestView:
    """The device's view of its own request."""
    return service.device_request(caller, request_id)


@router.post("/requests/{request_id}/offer", response_model=DeviceRequestView, responses=ERRORS)
async def replace_offer(
    request_id: IdPath, body: OfferBody, caller: CallerDep, service: ServiceDep, writer: WriterDep
) -> DeviceRequestView:
    """The device replaces its SDP offer while queued (needed after `request.released`)."""
    return await writer.run(service.replace_offer, caller, request_id, body.sdp_offer)


@router.post("/requests/{request_id}/hangup", response_model=DeviceRequestView, responses=ERRORS)
async def hangup(
    request_id: IdPath, caller: CallerDep, service: ServiceDep, writer: WriterDep
) -> DeviceRequestView:
    """The device hangs up (cancel / device_left / end, by state)."""
    return await writer.run(service.hangup, caller, request_id)


# --------------------------------------------------------------------------- operators


@router.get("/requests", response_model=list[RequestView], responses=ERRORS)
def active_requests(
    caller: CallerDep, service: ServiceDep, active: Annotated[bool, Query()] = True
) -> list[RequestView]:
    """Every request not in a terminal state, oldest first (`active=true`; past calls: /history)."""
    if not active:
        raise InvalidRequestError("Only active=true is supported here; use /history for past calls")
    return service.active_requests(caller)


@router.get("/requests/{request_id}", response_model=RequestDetail, responses=ERRORS)
def request_detail(request_id: IdPath, caller: CallerDep, service: ServiceDep) -> RequestDetail:
    """A request with its audit timeline and snapshots."""
    return service.request_detail(caller, request_id)


@router.post("/requests/{request_id}/claim", response_model=ClaimResult, responses=ERRORS)
async def claim(request_id: IdPath, request: Request, caller: CallerDep) -> ClaimResult:
    """queued → claimed. 409 `claim_conflict` (with `holder`) when someone was faster."""
    # Losers of a race are answered from the claim in flight or a quick read on the loop; only
    # one racer per request goes on to the writer thread (hub/claim_gate.py).
    hub = request.app.state.hub  # not dependencies: each costs FastAPI more than this lookup
    gate: ClaimGate = hub.claim_gate
    return await gate.claim(hub.service, hub.writer, caller, request_id)


@router.post("/requests/{request_id}/lease", response_model=RequestView, responses=ERRORS)
async def renew_lease(
    request_id: IdPath, caller: CallerDep, service: ServiceDep, writer: WriterDep
) -> RequestView:
    """Renew the holder's lease."""
    return await writer.run(service.renew_lease, caller, request_id)


@router.post("/requests/{request_id}/answer", response_model=RequestView, responses=ERRORS)
async def answer(
    request_id: IdPath, body: AnswerBody, caller: CallerDep, service: ServiceDep, writer: WriterDep
) -> RequestView:
    """The holder's complete SDP answer, relayed to the device as `request.answered`."""
    return await writer.run(service.answer, caller, request_id, body.sdp_answer)


@router.post("/requests/{request_id}/connected", response_model=RequestView, responses=ERRORS)
async def connected(
    request_id: IdPath, caller: CallerDep, service: ServiceDep, writer: WriterDep
) -> RequestView:
    """claimed → connected (media flowing)."""
    return await writer.run(service.connected, caller, request_id)


@router.post("/requests/{request_id}/release", response_model=RequestView, responses=ERRORS)
async def release(
    request_id: IdPath, caller: CallerDep, service: ServiceDep, writer: WriterDep
) -> RequestView:
    """Give the request back to the queue."""
    return await writer.run(service.release, caller, request_id)


@router.post("/requests/{request_id}/fail", response_model=RequestView, responses=ERRORS)
async def fail(
    request_id: IdPath,
    caller: CallerDep,
    service: ServiceDep,
    writer: WriterDep,
    body: FailBody | None = None,
) -> RequestView:
    """claimed/connected → failed."""
    return await writer.run(service.fail, caller, request_id, body.detail if body else "")


@router.post("/requests/{request_id}/decision", response_model=RequestView, responses=ERRORS)
async def decision(
    request_id: IdPath,
    body: DecisionBody,
    caller: CallerDep,
    service: ServiceDep,
    writer: WriterDep,
    idempotency_key: Annotated[str | None, Header(alias="Idempotency-Key")] = None,
) -> RequestView:
    """Confirm or refuse; idempotent by `Idempotency-Key`."""
    return await writer.run(service.decide, caller, request_id, body, idempotency_key)


@router.post("/requests/{request_id}/end", response_model=RequestView, responses=ERRORS)
async def end(
    request_id: IdPath, caller: CallerDep, service: ServiceDep, writer: WriterDep
) -> RequestView:
    """decided → ended."""
    return await writer.run(service.end, caller, request_id)


@router.post(
    "/requests/{request_id}/snapshots",
    response_model=SnapshotView,
    status_code=status.HTTP_201_CREATED,
    responses={**ERRORS, 413: {"model": ErrorBody}},
    openapi_extra={
        "requestBody": {
            "required": True,
            "content": {
                "image/jpeg": {"schema": {"type": "string", "format": "binary"}},
                "image/png": {"schema": {"type": "string", "format": "binary"}},
            },
        },
        # Authenticates inside (the body is read only after the token is checked).
        "security": [{BEARER_SCHEME: []}],
    },
)
async def add_snapshot(request_id: IdPath, request: Request) -> SnapshotView:
    """A still from the live video (JPEG or PNG, ≤ 2 MiB) into the record."""
    service: HubService = request.app.state.hub.service
    caller = await run_quick_read(service, service.authenticate, bearer_token(request))
    declared = request.headers.get("content-type", "").split(";")[0].strip().lower()
    if declared not in SNAPSHOT_TYPES:
        raise UnsupportedMediaTypeError("A snapshot must be sent as image/jpeg or image/png")
    data = await request.body()
    if not data:
        raise InvalidRequestError("The snapshot body is empty")
    if image_mime(data) != declared:
        raise InvalidRequestError(f"The body is not a {declared} image")
    writer: Writer = request.app.state.hub.writer
    return await writer.run(service.add_snapshot, caller, request_id, data)
