"""Server-sent event streams for operators (`/events`) and for a request's device."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Annotated

from fastapi import APIRouter, Header, Query, Request

from hub.errors import CursorAheadError, InvalidRequestError
from hub.routes.deps import MAX_ID, CallerDep, IdPath, Responses, ServiceDep
from hub.sse_response import EventStreamResponse
from hub.streams import console_select, device_select, event_chunks
from protocol.schemas import API_PREFIX, ErrorBody

router = APIRouter(prefix=API_PREFIX, tags=["events"])
ERRORS: Responses = {code: {"model": ErrorBody} for code in (401, 403, 404, 409, 422)}
SSE_RESPONSE: Responses = {200: {"content": {"text/event-stream": {}}}}
# Cursor omitted: a new subscriber starts from "now" (the current active list comes from
# GET /requests); a cursor replays everything after it.
NO_CURSOR = -1


def _cursor(header: str | None, query: int | None, default: int, newest: int) -> int:
    raw = header if header not in (None, "") else query
    if raw is None:
        return default
    try:
        cursor = int(raw)
    except ValueError:
        raise InvalidRequestError("Last-Event-ID must be an event id (an integer)") from None
    if not 0 <= cursor <= MAX_ID:
        raise InvalidRequestError("Last-Event-ID is out of range")
    if cursor > newest:
        # Ids only grow, so a client can only be ahead of a hub whose database was replaced or
        # restored: the events it would wait for were numbered again from an older point, and
        # every one of them would look like one it has already seen.
        raise CursorAheadError(
            f"Last-Event-ID {cursor} is ahead of this hub's newest event ({newest}): its "
            "database was replaced or restored. Reload the current state and reconnect "
            "without Last-Event-ID."
        )
    return cursor


def _stream(chunks: AsyncIterator[bytes]) -> EventStreamResponse:
    # The generator sends `: heartbeat` itself, every heartbeat_seconds.
    return EventStreamResponse(
        chunks, headers={"Cache-Control": "no-store", "X-Accel-Buffering": "no"}, send_timeout=30
    )


@router.get("/events", responses={**ERRORS, **SSE_RESPONSE})
def console_events(
    request: Request,
    caller: CallerDep,
    service: ServiceDep,
    last_event_id_header: Annotated[str | None, Header(alias="Last-Event-ID")] = None,
    last_event_id: Annotated[int | None, Query(ge=0, le=MAX_ID)] = None,
) -> EventStreamResponse:
    """Every change, for operators. Resume with `Last-Event-ID` / `?last_event_id=`."""
    caller.require_operator()
    newest = service.bus.last_id
    cursor = _cursor(last_event_id_header, last_event_id, newest, newest)
    chunks = event_chunks(
        service, service.bus, cursor, service.settings.heartbeat_seconds, console_select
    )
    return _stream(chunks)


@router.get("/requests/{request_id}/device-events", responses={**ERRORS, **SSE_RESPONSE})
def device_events(
    request_id: IdPath,
    request: Request,
    caller: CallerDep,
    service: ServiceDep,
    last_event_id_header: Annotated[str | None, Header(alias="Last-Event-ID")] = None,
    last_event_id: Annotated[int | None, Query(ge=0, le=MAX_ID)] = None,
) -> EventStreamResponse:
    """Its own request's events, for the device. Without a cursor: from the request's start."""
    service.check_device_request(caller, request_id)
    cursor = _cursor(
        last_event_id_header,
        last_event_id,
        service.first_event_cursor(request_id),
        service.bus.last_id,
    )
    chunks = event_chunks(
        service,
        service.bus,
        cursor,
        service.settings.heartbeat_seconds,
        device_select(request_id),
        request_id=request_id,
    )
    return _stream(chunks)
